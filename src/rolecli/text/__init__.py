"""Reading a posting's text, no model involved: its sections, its title line, its lines and
sentences, the words that name a role and the words that name the work."""
