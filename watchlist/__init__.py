from .errors import Problem, WatchlistError
from .loader import (WatchlistExportError, dump_watchlist_csv, dump_watchlist_yaml, load_watchlist,
                     save_watchlist)
from .model import AuthorizedSeller, Enterprise, GeographicalIndication, Mark, Region, Watchlist

__all__ = ["Problem", "WatchlistError", "WatchlistExportError", "load_watchlist", "save_watchlist", "dump_watchlist_yaml",
           "dump_watchlist_csv", "AuthorizedSeller", "Enterprise", "GeographicalIndication", "Mark",
           "Region", "Watchlist"]
