"""Job descriptions: the postings corpus, the GPT-2 generator and its serving decoder, training,
evaluation and the model card."""
