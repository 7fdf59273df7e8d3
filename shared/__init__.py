"""What every Ojime service uses: settings, database, crypto, events, identity,
errors, logging and the application factory."""
