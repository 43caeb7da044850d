"""`debrief bench`: speed and memory of the embedded stack, each figure beside a reference and a target."""
