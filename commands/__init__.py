"""The write side: the event-sourced Application, one handler per command, ports and adapters."""
