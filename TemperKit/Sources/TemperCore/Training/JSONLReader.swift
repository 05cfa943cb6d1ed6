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

/// One line of a JSONL file that is not blank, with its number and its JSON: what every reader of
/// row files (training data, prompts, completions to grade) starts from, each then applying its own
/// row shape and bad-row policy.
public struct JSONLLine {
    /// The file, for messages.
    public let file: String
    /// 1-based line number.
    public let number: Int
    /// The line's JSON, or the error naming the file and line when it is not valid JSON.
    public let json: Result<JSONValue, TrainingDataError>

    /// The line's row read by `parse`; invalid JSON and a `RowError` from `parse` become a
    /// `TrainingDataError` naming the file, this line and the field.
    func row<T>(_ parse: (JSONValue) throws -> T) throws -> T {
        let value = try json.get()
        do { return try parse(value) } catch let e as RowError {
            throw TrainingDataError(file: file, line: number, field: e.field, e.reason)
        }
    }
}

/// Reads TRL-shaped rows from a JSONL file: one JSON object per line, blank lines ignored.
public enum JSONLReader {
    /// Calls `body` with each line of `path` that holds more than blanks, in file order. Throws a
    /// `TrainingDataError` when the file cannot be read, and whatever `body` throws.
    public static func forEachLine(path: String, _ body: (JSONLLine) throws -> Void) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingDataError(file: path, line: nil, field: nil, "cannot be read (missing file or no permission)")
        }
        var number = 0
        for bytes in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let json: Result<JSONValue, TrainingDataError>
            do { json = .success(try JSONDecoder().decode(JSONValue.self, from: Data(bytes))) } catch {
                json = .failure(TrainingDataError(file: path, line: number, field: nil, "not valid JSON"))
            }
            try body(JSONLLine(file: path, number: number, json: json))
        }
    }

    /// Reads every row of `path`. A malformed row throws a `TrainingDataError` naming the line and
    /// field, unless `skipInvalid`, when it is counted and left out.
    public static func read(path: String, skipInvalid: Bool = false) throws -> LoadedRows {
        var result = LoadedRows(rows: [], skipped: 0, firstSkipped: nil)
        try forEachLine(path: path) { line in
            do { result.rows.append((line.number, try line.row(DatasetRow.parse))) } catch let e as TrainingDataError {
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
