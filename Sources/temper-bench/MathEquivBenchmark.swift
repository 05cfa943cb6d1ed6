import ArgumentParser
import Foundation
import TemperCore

/// `temper-bench math-equiv`: completions per second graded by the `math-equiv` reward, loaded
/// through the plugin loader as `temper` loads it. The synthetic completions mix the shapes RL
/// sees: GSM8K reasoning ending in `#### n`, MATH solutions with `\boxed{\frac{p}{q}}`, "the final
/// answer is $x$", algebraic answers equal only after expansion, ordered pairs, and R1-style
/// `<think>`/`<answer>` output; half are right, half wrong, eight completions per reference.
///
/// With `--suite FILE` it measures correctness instead: the balanced accuracy of math-equiv's verdicts
/// on labelled gold/prediction pairs (e.g. Math-Verify's regression cases, extracted by
/// `scripts/reference/math_verify_suite.py`), with every miss listed under its category.
struct MathEquivBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "math-equiv",
        abstract: "Completions per second graded by the math-equiv reward (target: 50k/s), or its balanced accuracy on a labelled suite (--suite)."
    )

    @Option(name: .long, help: "JSONL of labelled cases {completion, answer, expected: bool, category}: report balanced accuracy and the misses instead of speed.")
    var suite: String?

    @Option(name: .long, help: "Completions graded per round.")
    var completions: Int = 100_000

    @Option(name: .long, help: "Completions per reward call (one RL batch).")
    var batch: Int = 1024

    @Option(name: .long, help: "Timed rounds; the best counts, the median is shown too.")
    var rounds: Int = 3

    func validate() throws {
        guard completions > 0 else { throw ValidationError("--completions must be positive, got \(completions)") }
        guard batch > 0 else { throw ValidationError("--batch must be positive, got \(batch)") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1, got \(rounds)") }
    }

    func run() throws {
        let report = PluginLoader.shared.load(.standard())
        guard ComponentRegistry.shared.descriptor(named: "math-equiv") != nil else {
            throw ValidationError("the math-equiv reward is not registered (is libTemperPluginRewards.so next to temper-bench?) \(report)")
        }
        let reward = try ComponentRegistry.shared.reward("math-equiv").reward
        if let suite { return try measureAccuracy(reward, suite: suite) }
        let data = Self.synthetic(count: completions)
        let batches = stride(from: 0, to: completions, by: batch).map { start -> RewardBatch in
            let r = start..<min(start + batch, completions)
            return RewardBatch(prompts: r.map { _ in "" }, completions: Array(data.completions[r]),
                               columns: ["answer": Array(data.golds[r])])
        }
        var rates: [Double] = []
        for _ in 0..<rounds {
            let start = Date()
            var scores: [Float?] = []
            scores.reserveCapacity(completions)
            for b in batches { scores += try reward.score(b) }
            let seconds = Date().timeIntervalSince(start)
            if let bad = scores.indices.first(where: { scores[$0] != data.expected[$0] }) {
                throw ValidationError("math-equiv scored completion \(bad) \(scores[bad].map { "\($0)" } ?? "nil"), expected \(data.expected[bad]): \(data.completions[bad]) vs \(data.golds[bad]); the benchmark would be meaningless")
            }
            rates.append(Double(completions) / seconds)
        }
        let sorted = rates.sorted()
        let meanLength = data.completions.reduce(0) { $0 + $1.utf8.count } / completions
        print(String(format: "math-equiv: %d completions (mean %d bytes) in batches of %d on %d threads: best %.0f completions/s, median %.0f completions/s (target 50000)",
                     completions, meanLength, batch, Parallel.threadCount, sorted.last!, sorted[sorted.count / 2]))
    }

    /// One labelled case of a suite.
    struct SuiteCase {
        let line: Int, completion: String, answer: String, expected: Bool, category: String
    }

    /// Balanced accuracy (the mean of the share of equivalent pairs accepted and of the share of
    /// different pairs rejected: a grader that accepts everything scores 0.5 however the suite is
    /// balanced) and each miss, grouped by category.
    func measureAccuracy(_ reward: any RewardScoring, suite: String) throws {
        var cases: [SuiteCase] = []
        try JSONLReader.forEachLine(path: suite) { line in
            guard case .object(let row)? = try? line.json.get(), case .string(let completion)? = row["completion"],
                  case .string(let answer)? = row["answer"], case .bool(let expected)? = row["expected"] else {
                throw ValidationError("\(suite):\(line.number): expected a JSON object with string 'completion' and 'answer' and boolean 'expected'")
            }
            let category: String
            if case .string(let c)? = row["category"] { category = c } else { category = "(none)" }
            cases.append(SuiteCase(line: line.number, completion: completion, answer: answer, expected: expected, category: category))
        }
        guard cases.contains(where: \.expected), cases.contains(where: { !$0.expected }) else {
            throw ValidationError("\(suite): balanced accuracy needs both equivalent and different pairs")
        }
        let scores = try reward.score(RewardBatch(prompts: cases.map { _ in "" }, completions: cases.map(\.completion),
                                                  columns: ["answer": cases.map { .string($0.answer) }]))
        let missed = cases.indices.filter { (scores[$0] == 1) != cases[$0].expected }
        let equal = cases.filter(\.expected).count, different = cases.count - equal
        let missedEqual = missed.filter { cases[$0].expected }.count
        let accepted = Double(equal - missedEqual) / Double(equal)
        let rejected = Double(different - (missed.count - missedEqual)) / Double(different)
        print(String(format: "math-equiv on %@: %d cases (%d equivalent, %d different): balanced accuracy %.3f (accepts %.3f of equivalent pairs, rejects %.3f of different ones)",
                     suite, cases.count, equal, different, (accepted + rejected) / 2, accepted, rejected))
        for category in Set(missed.map { cases[$0].category }).sorted() {
            let inCategory = cases.filter { $0.category == category }.count
            let misses = missed.filter { cases[$0].category == category }
            print("  \(category): \(misses.count) of \(inCategory) missed")
            for k in misses {
                let c = cases[k]
                print("    line \(c.line), \(c.expected ? "equivalent, rejected" : "different, accepted"): gold \(Self.quoted(c.answer)) vs prediction \(Self.quoted(c.completion))")
            }
        }
    }

    /// `text` as a JSON string literal, so newlines and quotes in a case stay on its line.
    static func quoted(_ text: String) -> String {
        (try? JSONEncoder().encode(text)).map { String(decoding: $0, as: UTF8.self) } ?? text
    }

    /// `12345` as `12,345`: GSM8K answers are often written with thousands separators.
    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        var out = ""
        for (k, d) in digits.enumerated() {
            if k > 0, (digits.count - k) % 3 == 0 { out += "," }
            out.append(d)
        }
        return out
    }

    /// Deterministic completions with their references and the score each must get.
    static func synthetic(count: Int) -> (completions: [String], golds: [ColumnValue], expected: [Float]) {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        let filler = "First, let us restate what is given and what is asked. We organise the quantities, check the units, " +
            "and work through the arithmetic one step at a time, verifying each intermediate result before moving on. "
        var completions: [String] = []
        var golds: [ColumnValue] = []
        var expected: [Float] = []
        completions.reserveCapacity(count)
        var k = 0
        while k < count {
            let kind = next(6)
            let a = next(900) + 12, b = next(90) + 2, c = next(9) + 1
            let group = min(8, count - k)
            for g in 0..<group {
                let right = g % 2 == 0
                let text: String
                let gold: ColumnValue
                switch kind {
                case 0:
                    let total = a * b + c
                    let shown = right ? total : total + 10
                    gold = .string("He buys \(a) packs of \(b): <<\(a)*\(b)=\(a * b)>>\(a * b), plus \(c).\n#### \(total)")
                    text = filler + "He buys \(a) packs of \(b), which is \(a) * \(b) = \(a * b) items, then adds \(c).\n" +
                        filler + "So the total is \(a * b) + \(c) = \(shown).\n#### \(shown >= 1000 ? shown.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US"))) : String(shown))"
                case 1:
                    gold = .string("\\frac{\(b)}{\(b + c)}")
                    let num = right ? 2 * b : 2 * b + 1
                    text = filler + "Simplifying $\\frac{\(2 * b)}{\(2 * (b + c))}$ step by step. " + filler +
                        "Therefore the probability is $\\boxed{\\dfrac{\(num)}{\(2 * (b + c))}}$."
                case 2:
                    gold = .string("\(a).5")
                    text = filler + "We find $x = \(a) + \\frac{1}{2}$. " + filler +
                        "Final Answer: The final answer is $\(right ? "\(a)\\frac{1}{2}" : "\(a).25")$. I hope it is correct."
                case 3:
                    gold = .string("x^2+\(2 * c)x+\(c * c)")
                    text = filler + "Expanding the square gives the polynomial. " + filler +
                        "Hence the expression equals $\\boxed{(x+\(right ? c : c + 1))^2}$."
                case 4:
                    gold = .string("(\(b), -\(c))")
                    text = filler + "Solving the system, we get $x = \(b)$ and $y = -\(c)$. " + filler +
                        "Thus $(x, y) = \\boxed{\\left( \(right ? b : b + 1), -\(c) \\right)}$."
                default:
                    gold = .number(Double(a + b))
                    text = "<think>" + filler + "Adding \(a) and \(b) gives \(a + b), though earlier I guessed \(a + b + 1). " + filler +
                        "</think>\n<answer>\(right ? a + b : a + b + 1)</answer>"
                }
                completions.append(text)
                golds.append(gold)
                expected.append(right ? 1 : 0)
            }
            k += group
        }
        return (completions, golds, expected)
    }
}
