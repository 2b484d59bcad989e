"""A recording of a real incident in the project lab, replayed by ``hatui demo``."""
