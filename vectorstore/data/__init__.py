"""Word lists the Danish sparse search reads: stop words and clinical synonyms (plain text, versioned here)."""
