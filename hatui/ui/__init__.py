"""The Textual face: an app whose panes only render what ``hatui.ui.format`` computed."""
