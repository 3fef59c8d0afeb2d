"""mixlens dashboard: thin Streamlit views over the analysis library."""
