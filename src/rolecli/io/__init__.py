"""Reading inputs: posting documents, tables, folder walks, labelled data."""
