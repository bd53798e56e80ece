"""One LightningModule and data pipeline for every causal LM (pre-training and SFT)."""
