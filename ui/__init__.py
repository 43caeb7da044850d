"""The Gradio web app: a thin shell over ``assistant`` (see ui/app.py)."""
