"""Writes the XLSX fixtures (ServiceNow "Export > Excel" of an incident list, dates as real
Excel date cells). Run from this folder: python3 make_xlsx.py (needs openpyxl)."""
from datetime import datetime as dt
from openpyxl import Workbook

HEADER = ["number", "short_description", "caller_id", "incident_state", "priority", "category",
          "business_service", "cmdb_ci", "opened_at", "resolved_at", "closed_at", "close_code",
          "made_sla", "reopen_count", "sys_updated_on"]

ROWS = [
    ["INC0060001", "Outlook add-in crashes on start", "Maria Lopes", "Closed", "3 - Moderate",
     "Software", "Email", "EXCH-MBX-01", dt(2026, 3, 2, 9, 0, 5), dt(2026, 3, 2, 12, 30, 0),
     dt(2026, 3, 5, 13, 0, 0), "Solved (Permanently)", True, 0, dt(2026, 3, 5, 13, 0, 0)],
    ["INC0060002", "Warehouse scanner firmware bricked", "Dock Supervisor", "In Progress",
     "2 - High", "Hardware", "Warehouse", None, dt(2026, 3, 3, 7, 45, 0), None, None, None, True, 0,
     dt(2026, 3, 3, 9, 12, 44)],
    ["INC0060003", "ERP month-end close job failed", "Finance Operations", "Closed", "1 - Critical",
     "Software", "ERP", "ERP-APP-02", dt(2026, 3, 31, 23, 10, 0), dt(2026, 4, 1, 4, 55, 30),
     dt(2026, 4, 4, 5, 0, 0), "Solved (Work Around)", False, 2, dt(2026, 4, 4, 5, 0, 0)],
    ["INC0060004", "Guest Wi-Fi portal certificate expired", "Eva Novak", "Resolved", "4 - Low",
     "Network", "Wireless LAN", "WLC-01", dt(2026, 4, 2, 10, 20, 0), dt(2026, 4, 2, 11, 0, 0), None,
     "Solved (Permanently)", True, 0, dt(2026, 4, 2, 11, 0, 0)],
]


def write(path, rows):
    wb = Workbook()
    ws = wb.active
    ws.title = "Page 1"
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, dt):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
    wb.save(path)


write("incident.xlsx", ROWS)
bad = [list(r) for r in ROWS]
bad[2][4] = "Sev 1"  # sheet row 4: not a priority
write("../malformed/incident_bad_priority.xlsx", bad)
