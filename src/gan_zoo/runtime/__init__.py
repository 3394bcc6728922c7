"""What runs around training: building from the config, errors as one line, checkpoint files, loggers."""
