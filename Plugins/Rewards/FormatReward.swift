import Foundation
import TemperCore

/// 1 when a completion has the required shape, else 0: either the DeepSeek-R1 reasoning format
/// `<think>…</think><answer>…</answer>` or any regular expression. Format rewards teach a model to
/// put its reasoning and its answer where the accuracy reward looks for them (weight 0.1–1).
public struct FormatReward: RewardFunction {
    /// Registered name.
    public static let name = "format"
    /// One-line summary for `temper plugins`.
    public static let summary = "1 if the completion has the R1 <think>/<answer> shape (strict or soft) or matches a regex, else 0"
    /// The shape to check.
    public static let parameters: [ParameterSpec] = [
        .string("pattern", default: "",
                doc: "regular expression (ICU syntax) to check instead of the R1 format; empty = R1 format per `mode`"),
        .choice("match", ["full", "search"], default: "full",
                doc: "with `pattern`: full = the whole completion must match, search = a match anywhere counts"),
        .bool("dotall", default: true, doc: "with `pattern`: `.` also matches newlines (as open-r1's format reward)"),
        .choice("mode", ["strict", "soft"], default: "strict",
                doc: "R1 format: strict = exactly <think>\\n…\\n</think>\\n<answer>\\n…\\n</answer> (trailing whitespace allowed, each tag once); soft = the four tags appear in this order anywhere"),
    ]

    private let check: Check

    private enum Check {
        /// `full` patterns are compiled as `(?:pattern)\z` and matched anchored, like Python's
        /// re.fullmatch: a lazy pattern that stops short of the end at its first match still counts
        /// when some longer match covers everything.
        case regex(NSRegularExpression, full: Bool)
        case strictR1
        case softR1
    }

    /// Compiles `pattern` once; a pattern ICU cannot compile is an error naming the parameter.
    public init(config: ComponentConfig) throws {
        let pattern = try config.string("pattern")
        if pattern.isEmpty {
            check = try config.string("mode") == "strict" ? .strictR1 : .softR1
            return
        }
        let options: NSRegularExpression.Options = try config.bool("dotall") ? [.dotMatchesLineSeparators] : []
        let full = try config.string("match") == "full"
        do {
            _ = try NSRegularExpression(pattern: pattern, options: options)
            check = .regex(try NSRegularExpression(pattern: full ? "(?:" + pattern + ")\\z" : pattern, options: options), full: full)
        } catch {
            throw SpecError("format: pattern '\(pattern)' is not a valid regular expression (ICU syntax): \(error.localizedDescription)")
        }
    }

    /// 1 or 0 for every completion; the format applies to all rows, so never nil.
    public func score(_ batch: RewardBatch) throws -> [Float?] {
        try batch.validate()
        return batch.completions.map { matches($0) ? 1 : 0 }
    }

    private func matches(_ text: String) -> Bool {
        switch check {
        case .regex(let regex, let full):
            let range = NSRange(location: 0, length: (text as NSString).length)
            return regex.firstMatch(in: text, options: full ? [.anchored] : [], range: range) != nil
        case .strictR1: return R1Format.isStrict(text)
        case .softR1: return R1Format.isSoft(text)
        }
    }
}

/// The DeepSeek-R1 reasoning format checks, on plain substring search (no regex engine per call).
enum R1Format {
    static let tags = ["<think>", "</think>", "<answer>", "</answer>"]

    /// `<think>\n…\n</think>\n<answer>\n…\n</answer>`, trailing whitespace aside, each tag exactly
    /// once (so a second answer block cannot hide inside the first, as it can with a lazy regex).
    static func isStrict(_ text: String) -> Bool {
        var t = Substring(text)
        while let last = t.last, last.isWhitespace { t = t.dropLast() }
        for tag in tags where occurrences(of: tag, in: t) != 1 { return false }
        let head = "<think>\n", middle = "\n</think>\n<answer>\n", tail = "\n</answer>"
        guard t.count >= head.count + middle.count + tail.count, t.hasPrefix(head), t.hasSuffix(tail) else { return false }
        let afterHead = t.dropFirst(head.count)
        guard let m = afterHead.range(of: middle) else { return false }
        return t.distance(from: m.upperBound, to: t.endIndex) >= tail.count
    }

    /// The four tags appear in the order `<think>`, `</think>`, `<answer>`, `</answer>`.
    static func isSoft(_ text: String) -> Bool {
        var rest = Substring(text)
        for tag in tags {
            guard let r = rest.range(of: tag) else { return false }
            rest = rest[r.upperBound...]
        }
        return true
    }

    private static func occurrences(of needle: String, in haystack: Substring) -> Int {
        var count = 0
        var rest = haystack
        while let r = rest.range(of: needle) {
            count += 1
            rest = rest[r.upperBound...]
        }
        return count
    }
}
