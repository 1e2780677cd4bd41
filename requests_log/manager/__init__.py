"""Pages for managers: file a request to a report, follow it, read the answer meant for
them. Interface only: the rules are in access.py, services.py and manager/selectors.py."""
