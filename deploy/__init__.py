"""Running Ojime: the command line, the local runner and the embedded stores."""
