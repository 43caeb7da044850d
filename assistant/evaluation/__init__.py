"""`debrief eval`: quality on labelled data sets (ASR, pseudonymisation, drafting, retrieval)."""
