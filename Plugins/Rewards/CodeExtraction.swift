/// Finds the program in a code completion.
enum CodeExtraction {
    /// Languages accepted as Python on a fence line (lower-cased).
    static let pythonTags: Set<String> = ["python", "py", "python3"]

    /// The last ```python (or ```py, ```python3) fenced block; failing that, the last fenced block
    /// without a language; failing that, the whole text. A block cut off by the end of the text
    /// (a truncated completion) runs to the end.
    static func python(from text: String) -> String {
        var blocks: [(language: String, body: [Substring])] = []
        var open: (language: String, body: [Substring])?
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.hasPrefix("```") {
                if let block = open {
                    blocks.append(block)
                    open = nil
                } else {
                    open = (trimmed.dropFirst(3).trimmingSpaces().lowercased(), [])
                }
            } else if open != nil {
                open!.body.append(line)
            }
        }
        if let block = open { blocks.append(block) }
        let chosen = blocks.last { pythonTags.contains($0.language) } ?? blocks.last { $0.language.isEmpty }
        return chosen.map { $0.body.joined(separator: "\n") } ?? text
    }
}

private extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return s
    }
}
