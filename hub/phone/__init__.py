"""The survey on a traveller's phone: links, posters, responses, comments."""
