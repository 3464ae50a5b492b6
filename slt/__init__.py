"""slt: find, store and study strong lottery tickets in (partially frozen) random networks.

Importing the package does no work and parses no arguments, so it is safe in
tests, scripts and Jupyter kernels alike.
"""

from .config import RunConfig, TicketConfig
from .supermask import TicketSearch, apply_ticket_search
from .ticket import Ticket, export_ticket, load_ticket

__version__ = "0.1.0"

__all__ = ["RunConfig", "Ticket", "TicketConfig", "TicketSearch", "apply_ticket_search", "export_ticket", "load_ticket"]
