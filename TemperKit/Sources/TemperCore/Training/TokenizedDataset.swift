import TemperModels

/// A JSONL file read, tokenized and (optionally) packed: the sequences the trainer batches.
public struct TokenizedDataset {
    /// The sequences, in file order (packed rows in packing order).
    public var examples: [TokenizedExample]
    /// The file they came from.
    public var file: String
    /// Malformed rows skipped (`skip_invalid_rows`).
    public var skippedRows: Int
    /// Rows left out because no target token survived truncation to `max_length`.
    public var emptyRows: Int
    /// Rows read (before packing).
    public var rowCount: Int

    /// Reads, tokenizes and packs `path`.
    public static func load(path: String, encoder: ExampleEncoder, skipInvalidRows: Bool = false,
                            packing: Bool = false) throws -> TokenizedDataset {
        let loaded = try JSONLReader.read(path: path, skipInvalid: skipInvalidRows)
        var examples: [TokenizedExample] = []
        var skipped = loaded.skipped, empty = 0
        var shape: (kind: ExampleShape, line: Int)? = nil
        for (line, row) in loaded.rows {
            let example: TokenizedExample
            do {
                example = try encoder.encode(row, file: path, line: line)
                // One batch holds one layout (pairs, unpaired rows, steps or plain sequences).
                if let shape, shape.kind != example.shape {
                    throw TrainingDataError(file: path, line: line, field: nil,
                                            "is \(example.shape.rowDescription) but line \(shape.line) is \(shape.kind.rowDescription); a file holds one kind of row")
                }
            } catch let e as TrainingDataError {
                guard skipInvalidRows else { throw e }
                skipped += 1
                continue
            }
            if shape == nil { shape = (example.shape, line) }
            if !example.hasTargets { empty += 1; continue }
            examples.append(example)
        }
        guard !examples.isEmpty else {
            throw TrainingDataError(file: path, line: nil, field: nil,
                                    "no row has a token to train on (\(skipped) malformed, \(empty) without target tokens " +
                                    "after truncation to max_length \(encoder.options.maxLength))")
        }
        let rowCount = examples.count
        if packing, let kind = shape?.kind, kind != .sequence {
            throw TrainingDataError(file: path, line: nil, field: nil, "packing applies to plain sequences; this file's rows are each \(kind.rowDescription): turn packing off")
        }
        if packing { examples = SequencePacker.pack(examples, maxLength: encoder.options.maxLength) }
        return TokenizedDataset(examples: examples, file: path, skippedRows: skipped, emptyRows: empty, rowCount: rowCount)
    }

    /// Total target tokens.
    public var targetTokenCount: Int { examples.reduce(0) { $0 + $1.targetCount } }
}

/// Packs short sequences into rows of at most `maxLength` tokens, so little of each batch is padding.
///
/// First-fit decreasing, never splitting an example: every example stays whole in one row, so no
/// target is cut from its context. Each row records its examples' lengths (`packedLengths`), which
/// the collator writes into the attention mask as segment numbers; the model then lets a token
/// attend only to earlier tokens of its own example (as padding-free packing does), so a packed
/// example gets the logits it would get alone. Each example's own first token carries no loss, so
/// no target is predicted across a boundary.
public enum SequencePacker {
    /// The packed rows, deterministic for a given input.
    public static func pack(_ examples: [TokenizedExample], maxLength: Int) -> [TokenizedExample] {
        let order = examples.indices.sorted { (examples[$0].ids.count, $1) > (examples[$1].ids.count, $0) }
        var rows: [TokenizedExample] = []
        var free: [Int] = []
        for i in order {
            let e = examples[i]
            if let slot = free.firstIndex(where: { $0 >= e.ids.count }) {
                rows[slot].ids += e.ids
                rows[slot].lossMask += e.lossMask
                rows[slot].packedLengths.append(e.ids.count)
                free[slot] -= e.ids.count
            } else {
                var row = e
                row.packedLengths = [e.ids.count]
                rows.append(row)
                free.append(maxLength - e.ids.count)
            }
        }
        return rows
    }
}

extension ExampleShape {
    /// What a row of this shape is called in messages.
    var rowDescription: String {
        switch self {
        case .sequence: return "a text / messages / prompt-completion row"
        case .pair: return "a preference row (prompt, chosen, rejected)"
        case .unpaired: return "an unpaired row (prompt, completion, label)"
        case .stepwise: return "a stepwise row (prompt, completions, labels)"
        }
    }
}
