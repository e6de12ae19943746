"""The model: analyzer, training, the compiled scorer and its format, the card, calibration."""
