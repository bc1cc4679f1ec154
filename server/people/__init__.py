"""People: the area tree, users and their roles, logging in and out."""
