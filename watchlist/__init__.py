from .errors import Problem, WatchlistError
from .loader import (RefusedEntry, WatchlistExportError, WatchlistRead, dump_watchlist_csv, dump_watchlist_yaml,
                     load_watchlist, read_watchlist, save_watchlist)
from .model import AuthorizedSeller, Enterprise, GeographicalIndication, Mark, Region, Watchlist

__all__ = ["Problem", "WatchlistError", "WatchlistExportError", "load_watchlist", "read_watchlist", "WatchlistRead",
           "RefusedEntry", "save_watchlist", "dump_watchlist_yaml", "dump_watchlist_csv", "AuthorizedSeller",
           "Enterprise", "GeographicalIndication", "Mark", "Region", "Watchlist"]
