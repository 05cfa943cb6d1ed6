/// A plain-text table: the first column left-aligned, the figures right-aligned under their headers.
struct Table {
    private var rows: [[String]]

    /// A table with these column headers.
    init(_ header: [String]) { rows = [header] }

    /// Appends a row; it should have as many cells as the header.
    mutating func add(_ row: [String]) { rows.append(row) }

    /// Prints the table to standard output, columns two spaces apart.
    func print() {
        let widths = rows[0].indices.map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        for row in rows {
            let cells = row.enumerated().map { c, cell in
                let fill = String(repeating: " ", count: widths[c] - cell.count)
                return c == 0 ? cell + fill : fill + cell
            }
            Swift.print(cells.joined(separator: "  "))
        }
    }
}
