// Package sheet reads a spreadsheet of clients (CSV or XLSX), as a booking or
// spa system exports it, into client records.
//
// It is the pure reading half of `clientvault import`: readers in, records
// out. It opens no file by path, reads no clock (today's date is passed to
// Reader.Next), prints nothing and writes no temporary file. It streams: a
// CSV file of any length is read one row at a time, and an XLSX sheet is
// read as a stream of XML with only its shared strings held in memory.
//
// Columns are matched by their headers, without case or punctuation, to
// the names that booking and spa systems export ("First Name", "E-mail",
// "Date of Birth", "Postcode"...); Options.Map adds or overrides a mapping
// (FieldNames lists the fields). Every record is checked by
// records.Record.Validate, and its problems are mapped back to the columns
// they came from.
//
// No error from this package contains a cell's value, which is client data:
// errors name the row (1-based, as a spreadsheet numbers it), the column's
// header and what is wrong. Header names and sheet names are not client data
// and may appear in errors, except when the first row looks like a client
// rather than a header (no column has a known name): then none is named.
package sheet
