#!/usr/bin/python3
"""Make the import fixtures: CSV files in the layouts of seven booking
systems' client exports, and workbooks written by openpyxl (and, through
make-fixtures.sh, converted by LibreOffice). Every client is invented.

Beside each file, FILE.want.json says how to import it (at most one flag)
and what `clientvault view NAME --json` must show for each client: every
column's data, where the import puts it. The Go test
TestImportVendorFiles (cmd/clientvault) reads both; CI needs neither this
script nor its tools, since the files are committed.

Run from this directory: ./make-fixtures.sh (or python3 make-fixtures.py
for the files that need no LibreOffice).
"""

import csv
import datetime as dt
import json
import sys

# The clients, as the old systems knew them. Dates are ISO here and
# written in each vendor's format below; None is not known.
CLIENTS = [
    dict(first="Aoife", last="Testwoman", dob="1991-02-13", md=None, phone="+1 212 555 0110",
         phone2="(212) 555-0120", email="aoife@example.test", street="12 Testing Lane", street2="Apt 4B",
         city="Springfield", state="IL", zip="62704", country="US", notes="prefers mornings",
         gender="Female", tags="VIP; Laser", referral="Instagram", marketing="Yes", blocked="No",
         first_visit="2015-06-01", last_visit="2025-11-20", client_id="C-1001"),
    dict(first="Brennan", last="Testman", dob=None, md="12-25", phone="(212) 555-0111 ext. 4",
         phone2=None, email=None, street="9 Example Road", street2=None, city="Shelbyville", state="IL",
         zip="02139", country="US", notes=None, gender="Male", tags=None, referral=None, marketing="No",
         blocked="No", first_visit="2024-01-10", last_visit=None, client_id="C-1002"),
    dict(first="Cora", last="Testperson", dob="1980-12-31", md=None, phone="555 0112", phone2=None,
         email="cora@example.test", street="1 Sample Square", street2=None, city="Capital City", state="IL",
         zip="60601", country="US", notes="sensitive skin\nno retinol", gender=None, tags="Lapsed",
         referral="Walk-in", marketing=None, blocked="Yes", first_visit="2012-03-04", last_visit="2017-05-02",
         client_id="C-1003"),
    dict(first="Zoë", last="Ångström-Testø", dob="1975-07-04", md=None, phone="+44 7700 900123", phone2=None,
         email="zoe@example.test", street="3 Rue de l'Essai", street2=None, city="Łódź", state=None,
         zip="90-001", country="PL", notes="née Testów", gender=None, tags=None, referral="Friend",
         marketing="Yes", blocked="No", first_visit="2020-02-29", last_visit="2026-01-15", client_id="C-1004"),
]

PLACEHOLDER = {"square": "", "vagaro": "---", "fresha-en": "-", "fresha-it": "-", "salontrac": "N/A",
               "mindbody": "", "pabau": "N/A"}


def fmt_date(iso, style):
    if iso is None:
        return None
    d = dt.date.fromisoformat(iso)
    return {"iso": d.isoformat(), "mdy": f"{d.month:02d}/{d.day:02d}/{d.year}",
            "dmy": f"{d.day:02d}/{d.month:02d}/{d.year}", "dmy.": f"{d.day:02d}.{d.month:02d}.{d.year}"}[style]


# A layout is a list of columns: (header, role, value function). Roles say
# where the data goes: name parts, a field, "addr" (joined into the address
# in column order), "note" (a plain notes line), "label" (a notes line under
# the header), "ignore" (no client data; listed as ignored).
def col(header, role, fn):
    return (header, role, fn)


def square():
    def bday(c):
        if c["md"]:
            return "0000-" + c["md"]
        return c["dob"]
    return "square", "--ignore-unknown", [
        col("First Name", "first", lambda c: c["first"]),
        col("Last Name", "last", lambda c: c["last"]),
        col("Email Address", "email", lambda c: c["email"]),
        col("Phone Number", "phone", lambda c: c["phone"]),
        col("Company Name", "label", lambda c: None),
        col("Street Address 1", "addr", lambda c: c["street"]),
        col("Street Address 2", "addr", lambda c: c["street2"]),
        col("City", "addr", lambda c: c["city"]),
        col("State", "addr", lambda c: c["state"]),
        col("Postal Code", "addr", lambda c: c["zip"]),
        col("Birthday", "dob", bday),
        col("Memo", "note", lambda c: c["notes"]),
        col("Reference ID", "label", lambda c: c["client_id"]),
        col("Status", "ignore", lambda c: "Active"),
        col("Creation Source", "ignore", lambda c: "Directory"),
        col("First Visit", "first_visit", lambda c: c["first_visit"]),
        col("Last Visit", "last_visit", lambda c: c["last_visit"]),
        col("Transaction Count", "ignore", lambda c: "3"),
        col("Total Spend", "ignore", lambda c: "$120.00"),
        col("Email Subscription Status", "label", lambda c: {"Yes": "subscribed", "No": "unsubscribed"}.get(c["marketing"])),
    ], "iso"


def vagaro():
    def bday(c):
        if c["md"]:
            return c["md"]
        return fmt_date(c["dob"], "mdy")
    return "vagaro", "--date-format=MM/DD/YYYY", [
        col("First Name", "first", lambda c: c["first"]),
        col("Last Name", "last", lambda c: c["last"]),
        col("Email", "email", lambda c: c["email"]),
        col("Cell Phone", "phone", lambda c: c["phone"]),
        col("Day Phone", "label", lambda c: c["phone2"]),
        col("Address", "addr", lambda c: c["street"]),
        col("City", "addr", lambda c: c["city"]),
        col("State", "addr", lambda c: c["state"]),
        col("Zip", "addr", lambda c: c["zip"]),
        col("Birthday", "dob", bday),
        col("Gender", "label", lambda c: c["gender"]),
        col("Customer Since", "first_visit", lambda c: fmt_date(c["first_visit"], "mdy")),
        col("Last Visited", "last_visit", lambda c: fmt_date(c["last_visit"], "mdy")),
        col("Referred By", "label", lambda c: c["referral"]),
        col("Tags", "label", lambda c: c["tags"]),
        col("Notes", "note", lambda c: c["notes"]),
    ], "mdy"


def fresha_en():
    return "fresha-en", None, [
        col("First Name", "first", lambda c: c["first"]),
        col("Last Name", "last", lambda c: c["last"]),
        col("Mobile Number", "phone", lambda c: c["phone"]),
        col("Telephone", "label", lambda c: c["phone2"]),
        col("Email", "email", lambda c: c["email"]),
        col("Gender", "label", lambda c: c["gender"]),
        col("Date of Birth", "dob", lambda c: c["dob"] or ("--" + c["md"] if c["md"] else None)),
        col("Client Source", "label", lambda c: c["referral"]),
        col("Address", "addr", lambda c: c["street"]),
        col("Suburb", "addr", lambda c: c["street2"]),
        col("City", "addr", lambda c: c["city"]),
        col("State", "addr", lambda c: c["state"]),
        col("Post Code", "addr", lambda c: c["zip"]),
        col("Country", "addr", lambda c: c["country"]),
        col("Notes", "note", lambda c: c["notes"]),
        col("Blocked", "label", lambda c: c["blocked"]),
        col("Accepts Marketing", "label", lambda c: c["marketing"]),
        col("Added", "first_visit", lambda c: c["first_visit"]),
        col("Last Visit Date", "last_visit", lambda c: c["last_visit"]),
    ], "iso"


def fresha_it():
    yes = {"Yes": "Sì", "No": "No", "Female": "Donna", "Male": "Uomo"}
    return "fresha-it", "--date-format=DD/MM/YYYY", [
        col("Nome", "first", lambda c: c["first"]),
        col("Cognome", "last", lambda c: c["last"]),
        col("Numero di cellulare", "phone", lambda c: c["phone"]),
        col("Telefono", "label", lambda c: c["phone2"]),
        col("Email", "email", lambda c: c["email"]),
        col("Sesso", "label", lambda c: yes.get(c["gender"])),
        col("Data di nascita", "dob", lambda c: fmt_date(c["dob"], "dmy") or (c["md"][3:] + "/" + c["md"][:2] if c["md"] else None)),
        col("Origine cliente", "label", lambda c: c["referral"]),
        col("Indirizzo", "addr", lambda c: c["street"]),
        col("Zona", "addr", lambda c: c["street2"]),
        col("Città", "addr", lambda c: c["city"]),
        col("Provincia", "addr", lambda c: c["state"]),
        col("CAP", "addr", lambda c: c["zip"]),
        col("Note cliente", "note", lambda c: c["notes"]),
        col("Bloccato", "label", lambda c: yes.get(c["blocked"])),
        col("Consenso marketing", "label", lambda c: yes.get(c["marketing"])),
        col("Data creazione", "first_visit", lambda c: fmt_date(c["first_visit"], "dmy")),
        col("Ultima visita", "last_visit", lambda c: fmt_date(c["last_visit"], "dmy")),
    ], "dmy"


def salontrac():
    return "salontrac", "--date-format=MM/DD/YYYY", [
        col("Client #", "label", lambda c: c["client_id"]),
        col("Last Name", "last", lambda c: c["last"]),
        col("First Name", "first", lambda c: c["first"]),
        col("Home Phone", "label", lambda c: c["phone2"]),
        col("Work Phone", "label", lambda c: None),
        col("Work Ext", "label", lambda c: None),
        col("Cell Phone", "phone", lambda c: c["phone"]),
        col("E-Mail", "email", lambda c: c["email"]),
        col("Street Address", "addr", lambda c: c["street"]),
        col("City", "addr", lambda c: c["city"]),
        col("ST", "addr", lambda c: c["state"]),
        col("Zip", "addr", lambda c: c["zip"]),
        col("Birth Date", "dob", lambda c: fmt_date(c["dob"], "mdy") or (c["md"].replace("-", "/") if c["md"] else None)),
        col("Client Since", "first_visit", lambda c: fmt_date(c["first_visit"], "mdy")),
        col("Last Visit", "last_visit", lambda c: fmt_date(c["last_visit"], "mdy")),
        col("Referral", "label", lambda c: c["referral"]),
        col("Memo", "note", lambda c: c["notes"]),
    ], "mdy"


def mindbody():
    return "mindbody", "--date-format=MM/DD/YYYY", [
        col("ID", "label", lambda c: c["client_id"]),
        col("Last Name", "last", lambda c: c["last"]),
        col("First Name", "first", lambda c: c["first"]),
        col("Email", "email", lambda c: c["email"]),
        col("Home Phone", "label", lambda c: c["phone2"]),
        col("Cell Phone", "phone", lambda c: c["phone"]),
        col("Work Phone", "label", lambda c: None),
        col("Address", "addr", lambda c: c["street"]),
        col("Address 2", "addr", lambda c: c["street2"]),
        col("City", "addr", lambda c: c["city"]),
        col("State", "addr", lambda c: c["state"]),
        col("Postal Code", "addr", lambda c: c["zip"]),
        col("Birth Date", "dob", lambda c: fmt_date(c["dob"], "mdy") or (c["md"].replace("-", "/") if c["md"] else None)),
        col("Gender", "label", lambda c: c["gender"]),
        col("Creation Date", "first_visit", lambda c: fmt_date(c["first_visit"], "mdy")),
        col("Last Visit", "last_visit", lambda c: fmt_date(c["last_visit"], "mdy")),
        col("Referred By", "label", lambda c: c["referral"]),
        col("Notes", "note", lambda c: c["notes"]),
    ], "mdy"


def pabau():
    return "pabau", "--date-format=DD/MM/YYYY", [
        col("Client ID", "label", lambda c: c["client_id"]),
        col("Salutation", "label", lambda c: {"Female": "Ms", "Male": "Mr"}.get(c["gender"])),
        col("First Name", "first", lambda c: c["first"]),
        col("Last Name", "last", lambda c: c["last"]),
        col("DOB", "dob", lambda c: fmt_date(c["dob"], "dmy") or (c["md"][3:] + "/" + c["md"][:2] if c["md"] else None)),
        col("Email", "email", lambda c: c["email"]),
        col("Mobile", "phone", lambda c: c["phone"]),
        col("Telephone", "label", lambda c: c["phone2"]),
        col("Street", "addr", lambda c: c["street"]),
        col("Town", "addr", lambda c: c["city"]),
        col("County", "addr", lambda c: c["state"]),
        col("Postcode", "addr", lambda c: c["zip"]),
        col("Country", "addr", lambda c: c["country"]),
        col("Marketing Source", "label", lambda c: c["referral"]),
        col("Opt in Email", "label", lambda c: c["marketing"]),
        col("Date Created", "first_visit", lambda c: fmt_date(c["first_visit"], "dmy")),
        col("Last Appointment", "last_visit", lambda c: fmt_date(c["last_visit"], "dmy")),
        col("Medical Alerts", "label", lambda c: c["notes"]),
    ], "dmy"


def expected(layout, c):
    """What view --json shows of client c imported from layout."""
    want = {"name": c["first"] + " " + c["last"]}
    addr, notes = [], []
    for header, role, fn in layout:
        v = fn(c)
        if v is None or v == "":
            continue
        if role in ("phone", "email"):
            want[role] = v
        elif role == "dob":
            if c["md"]:
                want["birthday"] = "--" + c["md"]
            else:
                want["dob"] = c["dob"]
        elif role in ("first_visit", "last_visit"):
            want[role] = c[role]
        elif role == "addr":
            addr.append(v)
        elif role == "note":
            notes.append(v)
        elif role == "label":
            notes.append(header + ": " + v)
    if addr:
        want["address"] = ", ".join(addr)
    if notes:
        want["notes"] = "\n".join(notes)
    return want


def ignored(layout):
    return [h for h, role, _ in layout if role == "ignore"]


def write_csv(name, flag, layout):
    with open(name + ".csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([h for h, _, _ in layout])
        for c in CLIENTS:
            row = []
            for h, role, fn in layout:
                v = fn(c)
                row.append(PLACEHOLDER[name] if v is None else v)
            w.writerow(row)
    write_want(name + ".csv", flag, layout)


def write_want(file, flag, layout, clients=CLIENTS, extra=None):
    want = {"flags": [flag] if flag else [], "ignored": ignored(layout),
            "clients": [expected(layout, c) for c in clients]}
    if extra:
        want.update(extra)
    with open(file + ".want.json", "w", encoding="utf-8") as f:
        json.dump(want, f, ensure_ascii=False, indent=1)
        f.write("\n")


def unicode_text(name, flag, layout):
    """What Excel's "Save as Unicode Text" writes: UTF-16 with a byte order
    mark, tab-separated, CRLF line ends."""
    import io
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\r\n")
    w.writerow([h for h, _, _ in layout])
    for c in CLIENTS:
        w.writerow(["" if fn(c) is None else fn(c) for _, _, fn in layout])
    with open(name, "wb") as f:
        f.write(buf.getvalue().encode("utf-16"))  # with a BOM, little-endian here
    write_want(name, flag, layout)


def workbook(path, layout, title=None, cover=False, for_libreoffice=False, date1904=False):
    """An XLSX workbook of the fresha-en layout with real types: dates as
    dates, phone numbers as text, a ZIP code as a number shown with leading
    zeros by its number format, an empty cell formatted as a date."""
    import openpyxl
    wb = openpyxl.Workbook()
    if date1904:
        # The 1904 date system of old Excel for Mac: serials count from 1904.
        from openpyxl.utils.datetime import CALENDAR_MAC_1904
        wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    if cover:
        ws.title = "Read me"
        ws["A1"] = "Client export"
        ws["A3"] = "Exported from the booking system. The client list is on the next sheet."
        ws = wb.create_sheet("Clients")
    else:
        ws.title = "Clients"
    if title:
        ws.append([title])
        ws.append([])
    ws.append([h for h, _, _ in layout])
    for c in CLIENTS:
        row = []
        for h, role, fn in layout:
            v = fn(c)
            if role in ("dob", "first_visit", "last_visit") and v and len(v) == 10 and v[4] == "-":
                v = dt.datetime.combine(dt.date.fromisoformat(v), dt.time())
            if h in ("Post Code", "Postcode") and v and v.isdigit():
                v = int(v)
            row.append(v)
        ws.append(row)
        r = ws.max_row
        for i, (h, role, _) in enumerate(layout, start=1):
            cell = ws.cell(row=r, column=i)
            if role in ("dob", "first_visit", "last_visit"):
                cell.number_format = "yyyy-mm-dd"  # also the empty ones: formatted, but empty
            if h in ("Post Code", "Postcode"):
                cell.number_format = "00000"
    wb.save(path)


def layouts_workbook(path):
    """A workbook laid out as people lay them out: a cover sheet first, a
    title and a blank row above the header, header cells merged over two
    and three columns, a column of data under no header (imported with
    --map "I=referral"), a ZIP code shown with leading zeros."""
    import openpyxl
    wb = openpyxl.Workbook()
    cover = wb.active
    cover.title = "Read me"
    cover["A1"] = "Client export"
    cover["A2"] = "The clients are on the sheet Clients."
    ws = wb.create_sheet("Clients")
    ws.append(["Clients of Test Salon, exported 2026-02-01"])
    ws.append([])
    ws.append(["Name", None, "Phone", None, "Email", "Date of Birth", "Address", None, None, "Notes", "Last Visit"])
    # I is under no header: the referral, by --map "I=referral". Columns
    # shift: the address is G:I in the header, so the blank column is L.
    ws.merge_cells("A3:B3")
    ws.merge_cells("C3:D3")
    ws.merge_cells("G3:I3")
    for c in CLIENTS:
        row = [c["first"], c["last"], c["phone"], c["phone2"], c["email"],
               dt.datetime.combine(dt.date.fromisoformat(c["dob"]), dt.time()) if c["dob"] else None,
               c["street"], c["city"], int(c["zip"]) if c["zip"].isdigit() else c["zip"], c["notes"],
               dt.datetime.combine(dt.date.fromisoformat(c["last_visit"]), dt.time()) if c["last_visit"] else None,
               c["referral"]]
        ws.append(row)
        r = ws.max_row
        ws.cell(row=r, column=6).number_format = "dd/mm/yyyy"
        ws.cell(row=r, column=11).number_format = "dd/mm/yyyy"
        ws.cell(row=r, column=9).number_format = "00000"
    wb.save(path)
    clients = []
    for c in CLIENTS:
        w = {"name": c["first"] + " " + c["last"], "phone": c["phone"],
             "address": ", ".join(v for v in (c["street"], c["city"], c["zip"]) if v)}
        for k in ("email", "dob", "last_visit"):
            if c[k]:
                w[k] = c[k]
        notes = []
        if c["phone2"]:
            notes.append("Phone (2): " + c["phone2"])
        if c["notes"]:
            notes.append(c["notes"])
        if c["referral"]:
            notes.append("column L: " + c["referral"])
        if notes:
            w["notes"] = "\n".join(notes)
        clients.append(w)
    with open(path + ".want.json", "w", encoding="utf-8") as f:
        json.dump({"flags": ["--map=L=referral"], "ignored": [], "clients": clients,
                   "stderr": ['reading sheet "Clients" of "Read me", "Clients"; "Read me" has no header row',
                              "the header is row 3; the rows above it are not imported"]},
                  f, ensure_ascii=False, indent=1)
        f.write("\n")


def title_csv(path):
    """A CSV with a title line and a blank line above the header, and a
    year-less birthday in day and month columns."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Client list, Test Salon"])
        w.writerow([])
        w.writerow(["Prénom", "Nom", "Téléphone", "Jour de naissance", "Mois de naissance", "Année de naissance", "Dernière visite (JJ/MM/AAAA)"])
        clients = []
        for c in CLIENTS:
            y, m, d = ("", c["md"][:2], c["md"][3:]) if c["md"] else c["dob"].split("-")
            w.writerow([c["first"], c["last"], c["phone"], d.lstrip("0"), m, y, fmt_date(c["last_visit"], "dmy") or "-"])
            want = {"name": c["first"] + " " + c["last"], "phone": c["phone"]}
            if c["md"]:
                want["birthday"] = "--" + c["md"]
            else:
                want["dob"] = c["dob"]
            if c["last_visit"]:
                want["last_visit"] = c["last_visit"]
            clients.append(want)
    with open(path + ".want.json", "w", encoding="utf-8") as f:
        json.dump({"flags": [], "ignored": [], "clients": clients,
                   "stderr": ["the header is row 3; the rows above it are not imported"]}, f, ensure_ascii=False, indent=1)
        f.write("\n")


def main():
    layouts = [square(), vagaro(), fresha_en(), fresha_it(), salontrac(), mindbody(), pabau()]
    for name, flag, layout, _ in layouts:
        write_csv(name, flag, layout)
    _, _, fl, _ = fresha_en()
    workbook("openpyxl.xlsx", fl)
    write_want("openpyxl.xlsx", None, fl)
    layouts_workbook("openpyxl-layouts.xlsx")
    workbook("openpyxl-1904.xlsx", fl, date1904=True)
    write_want("openpyxl-1904.xlsx", None, fl)
    _, _, il, _ = fresha_it()
    unicode_text("unicode-text-it.txt", "--date-format=DD/MM/YYYY", il)
    title_csv("title-fr.csv")
    if "--libreoffice-sources" in sys.argv:
        # Converted to XLSX by LibreOffice in make-fixtures.sh; not kept.
        workbook("libreoffice-src.xlsx", fl)
        write_want("libreoffice.xlsx", None, fl)


if __name__ == "__main__":
    main()
