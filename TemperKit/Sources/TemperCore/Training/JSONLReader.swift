import Foundation
import TemperModels

/// Rows read from a JSONL file, with how many malformed ones were skipped.
public struct LoadedRows {
    /// The rows, each with its 1-based line number.
    public var rows: [(line: Int, row: DatasetRow)]
    /// Malformed rows left out (only when skipping was asked for).
    public var skipped: Int
    /// The first skipped row's error, to show the user what kind of problem was skipped.
    public var firstSkipped: TrainingDataError?
}

/// Reads TRL-shaped rows from a JSONL file: one JSON object per line, blank lines ignored.
public enum JSONLReader {
    /// Reads every row of `path`. A malformed row throws a `TrainingDataError` naming the line and
    /// field, unless `skipInvalid`, when it is counted and left out.
    public static func read(path: String, skipInvalid: Bool = false) throws -> LoadedRows {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingDataError(file: path, line: nil, field: nil, "cannot be read (missing file or no permission)")
        }
        var result = LoadedRows(rows: [], skipped: 0, firstSkipped: nil)
        var lineNumber = 0
        for lineBytes in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let trimmed = lineBytes.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
            if trimmed.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            do {
                let json: JSONValue
                do { json = try JSONDecoder().decode(JSONValue.self, from: Data(lineBytes)) } catch {
                    throw TrainingDataError(file: path, line: lineNumber, field: nil, "not valid JSON")
                }
                do { result.rows.append((lineNumber, try DatasetRow.parse(json))) } catch let e as RowError {
                    throw TrainingDataError(file: path, line: lineNumber, field: e.field, e.reason)
                }
            } catch let e as TrainingDataError {
                guard skipInvalid else { throw e }
                result.skipped += 1
                if result.firstSkipped == nil { result.firstSkipped = e }
            }
        }
        if result.rows.isEmpty {
            throw TrainingDataError(file: path, line: nil, field: nil,
                                    result.skipped > 0 ? "all \(result.skipped) rows are malformed" : "holds no rows")
        }
        return result
    }
}
