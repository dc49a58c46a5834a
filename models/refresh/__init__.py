"""Fine-tune refreshes: retrain on team data, gate against the active version, promote or not."""
