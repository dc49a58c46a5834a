"""CV screening: reading uploads, the MiniLM + SVM classifier, role mapping, evidence, verdicts."""
