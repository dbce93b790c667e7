"""The reporting side of the actions worker: aggregates per rep and week maintained
from the opportunity stream, the scheduled must-do and weekly runs, and exports."""
