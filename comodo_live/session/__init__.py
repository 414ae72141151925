"""Session orchestration: sources, streams, windowing, recording, the controller and its snapshot."""
