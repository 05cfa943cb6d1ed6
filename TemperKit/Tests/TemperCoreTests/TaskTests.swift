import Foundation
@testable import TemperCore
import XCTest

/// The built-in verifiable tasks: seeded, correct, solvable, and with disjoint splits.
final class TaskTests: XCTestCase {
    private func examples(_ name: String, _ options: [(String, String)] = [], n: Int = 200, seed: UInt64 = 1,
                          split: TaskSplit = .train) throws -> [TaskExample] {
        let task = try TaskCatalog.make(name, options: options.map { ($0.0, .text($0.1)) })
        return try TaskDataset.generate(task, count: n, seed: seed, split: split)
    }

    /// The integers in `text`, in order.
    private func integers(_ text: String) -> [Int] {
        text.split { !$0.isNumber }.compactMap { Int($0) }
    }

    func testSameSeedSameDataDifferentSeedDifferentData() throws {
        for t in TaskCatalog.all {
            let a = TaskDataset.jsonl(try examples(t.name, n: 50, seed: 7))
            XCTAssertEqual(a, TaskDataset.jsonl(try examples(t.name, n: 50, seed: 7)), t.name)
            XCTAssertNotEqual(a, TaskDataset.jsonl(try examples(t.name, n: 50, seed: 8)), t.name)
        }
        // Pinned so a change to the draws (or a platform that draws differently) is caught.
        XCTAssertEqual(try examples("addition", [("digits", "2")], n: 3).map(\.prompt),
                       ["What is 68 + 49?", "What is 16 + 77?", "What is 73 + 16?"])
    }

    func testUniformDrawsCoverTheRangeEvenly() {
        var random = TaskRandom(seed: 3)
        var counts = [Int](repeating: 0, count: 10)
        for _ in 0..<20_000 { counts[random.int(in: 0...9)] += 1 }
        // 20 000 draws over 10 bins: each bin's count has std ≈ 42, so ±200 is far outside chance.
        XCTAssertTrue(counts.allSatisfy { (1800...2200).contains($0) }, "\(counts)")
        for _ in 0..<100 {
            XCTAssertEqual(random.int(in: 5...5), 5)
            XCTAssertTrue((-3...(-1)).contains(random.int(in: -3...(-1))))
        }
        _ = random.int(in: Int.min...Int.max)
        let shuffled = random.shuffled(Array(0..<20))
        XCTAssertEqual(shuffled.sorted(), Array(0..<20))
        XCTAssertNotEqual(shuffled, Array(0..<20))
    }

    func testArithmeticAnswersAreRecomputed() throws {
        for digits in [1, 3, 18] {
            for e in try examples("addition", [("digits", "\(digits)")], n: 50) {
                let ops = integers(e.prompt)
                XCTAssertEqual(ops.count, 2)
                XCTAssertTrue(ops.allSatisfy { String($0).count == digits || (digits == 1 && $0 == 0) }, e.prompt)
                XCTAssertEqual(e.answer, .string(String(ops[0] + ops[1])))
                XCTAssertEqual(e.solution, String(ops[0] + ops[1]))
            }
        }
        for e in try examples("multiplication", [("digits", "9")], n: 50) {
            let ops = integers(e.prompt)
            XCTAssertTrue(ops.allSatisfy { String($0).count == 9 }, e.prompt)
            XCTAssertEqual(e.answer, .string(String(ops[0] * ops[1])))
        }
        XCTAssertThrowsError(try examples("multiplication", [("digits", "10")])) { error in
            XCTAssertTrue("\(error)".hasPrefix("multiplication: digits"), "\(error)")
        }
    }

    func testSortingAnswersAreRecomputed() throws {
        for descending in [false, true] {
            for e in try examples("sorting", [("length", "7"), ("max_value", "1000"), ("descending", "\(descending)")], n: 50) {
                let listed = integers(String(e.prompt.split(separator: ":")[1]))
                XCTAssertEqual(listed.count, 7)
                XCTAssertTrue(listed.allSatisfy { (0...1000).contains($0) })
                let expected = listed.sorted(by: descending ? (>) : (<)).map(String.init).joined(separator: " ")
                XCTAssertEqual(e.answer, .string(expected))
            }
        }
    }

    func testWordProblemStepsComputeAndEndInTheGSM8KAnswer() throws {
        let calc = try NSRegularExpression(pattern: #"<<(\d+)([-+*/])(\d+)=(\d+)>>"#)
        var templates = Set<String>()
        for e in try examples("word-problems", n: 300) {
            guard case .string(let answer) = e.answer else { return XCTFail("answer is not text") }
            let ns = answer as NSString
            let matches = calc.matches(in: answer, range: NSRange(location: 0, length: ns.length))
            XCTAssertFalse(matches.isEmpty, answer)
            var last = -1
            for m in matches {
                let a = Int(ns.substring(with: m.range(at: 1)))!, op = ns.substring(with: m.range(at: 2))
                let b = Int(ns.substring(with: m.range(at: 3)))!, r = Int(ns.substring(with: m.range(at: 4)))!
                switch op {
                case "+": XCTAssertEqual(a + b, r, answer)
                case "-": XCTAssertEqual(a - b, r, answer)
                case "*": XCTAssertEqual(a * b, r, answer)
                default: XCTAssertEqual(b * r, a, answer)   // exact division
                }
                XCTAssertGreaterThanOrEqual(r, 0)
                last = r
            }
            XCTAssertTrue(answer.hasSuffix("\n#### \(last)"), answer)
            XCTAssertEqual(e.solution, answer)
            templates.insert(String(e.prompt.prefix(12)))
        }
        XCTAssertGreaterThanOrEqual(templates.count, 6)
    }

    func testCountdownProblemsAreSolvedByTheirSolution() throws {
        for count in 2...6 {
            for e in try examples("countdown", [("count", "\(count)")], n: 100) {
                guard case .number(let t)? = e.column("target"), case .array(let cells)? = e.column("nums") else {
                    return XCTFail("missing columns")
                }
                let nums = cells.map { cell -> Int in if case .number(let d) = cell { return Int(d) }; return -1 }
                XCTAssertEqual(nums.count, count)
                XCTAssertTrue(nums.allSatisfy { (1...100).contains($0) })
                XCTAssertTrue((1...1000).contains(Int(t)))
                XCTAssertEqual(e.answer, .number(t))
                XCTAssertTrue(e.prompt.contains("Make \(Int(t)) from the numbers \(nums.map(String.init).joined(separator: ", "))."), e.prompt)
                XCTAssertTrue(e.solution.hasPrefix("<answer>") && e.solution.hasSuffix("</answer>"))
                let expression = try ArithmeticExpression(String(e.solution.dropFirst(8).dropLast(9)))
                XCTAssertEqual(expression.value, ExactRational(Int(t)), e.solution)
                XCTAssertEqual(expression.numbers.sorted(), nums.sorted(), e.solution)
            }
        }
        XCTAssertThrowsError(try examples("countdown", [("max_number", "50"), ("max_target", "20")])) { error in
            XCTAssertEqual("\(error)", "countdown: max_target (20) must be at least max_number (50)")
        }
    }

    func testSplitsAreDisjointWhateverTheSeeds() throws {
        for name in ["addition", "countdown", "word-problems"] {
            let train = try examples(name, n: 1000, seed: 1, split: .train)
            let test = try examples(name, n: 200, seed: 2, split: .test)
            let trainPrompts = Set(train.map(\.prompt)), testPrompts = Set(test.map(\.prompt))
            XCTAssertEqual(trainPrompts.count, 1000, "duplicates within train")
            XCTAssertEqual(testPrompts.count, 200, "duplicates within test")
            XCTAssertTrue(trainPrompts.isDisjoint(with: testPrompts), name)
            XCTAssertTrue(train.allSatisfy { TaskSplit.of(prompt: $0.prompt) == .train })
            XCTAssertTrue(test.allSatisfy { TaskSplit.of(prompt: $0.prompt) == .test })
        }
        // Roughly one problem in ten is held out.
        let all = try examples("addition", [("digits", "4")], n: 3000, seed: 5)
        XCTAssertEqual(all.count, 3000)
        let oneDigit = (0...9).flatMap { a in (0...9).map { b in "What is \(a) + \(b)?" } }
        let held = oneDigit.filter { TaskSplit.of(prompt: $0) == .test }.count
        XCTAssertTrue((3...20).contains(held), "\(held) of 100 held out")
        XCTAssertEqual(Set(try examples("addition", [("digits", "1")], n: held, split: .test).map(\.prompt)).count, held)
        XCTAssertThrowsError(try examples("addition", [("digits", "1")], n: held + 1, split: .test)) { error in
            XCTAssertTrue("\(error)".hasPrefix("addition: found only \(held) distinct test problems"), "\(error)")
        }
    }

    func testJSONLinesHaveTRLPromptOnlyShape() throws {
        let e = try examples("countdown", n: 1)[0]
        let conversational = try JSONSerialization.jsonObject(with: Data(TaskDataset.jsonLine(e).utf8)) as! [String: Any]
        XCTAssertEqual(Set(conversational.keys), ["prompt", "answer", "target", "nums"])
        let messages = conversational["prompt"] as! [[String: String]]
        XCTAssertEqual(messages, [["role": "user", "content": e.prompt]])
        let plain = try JSONSerialization.jsonObject(with: Data(TaskDataset.jsonLine(e, plain: true, withSolution: true).utf8)) as! [String: Any]
        XCTAssertEqual(plain["prompt"] as? String, e.prompt)
        XCTAssertEqual(plain["solution"] as? String, e.solution)
        XCTAssertTrue(TaskDataset.jsonLine(e).hasPrefix(#"{"prompt":[{"role":"user","content":"Make "#))
    }

    func testUnknownTasksAndOptionsAreNamed() {
        XCTAssertThrowsError(try TaskCatalog.make("sortin")) { error in
            XCTAssertEqual("\(error)", "unknown task 'sortin'. Did you mean 'sorting'? Available tasks: addition, multiplication, countdown, sorting, word-problems, arithmetic-chain, long-addition, one-step-word-problems")
        }
        XCTAssertThrowsError(try TaskCatalog.make("sorting", options: [("lenght", .text("3"))])) { error in
            XCTAssertTrue("\(error)".hasPrefix("sorting: unknown parameter 'lenght'. Did you mean 'length'?"), "\(error)")
        }
        XCTAssertThrowsError(try TaskDataset.generate(try TaskCatalog.make("addition"), count: 0, seed: 0, split: .train))
    }

    func testArithmeticExpressionsEvaluateExactly() throws {
        let e = try ArithmeticExpression("(7 / 3) * 3 + 10 - 2 * (4 - 1)")
        XCTAssertEqual(e.value, ExactRational(11))
        XCTAssertEqual(e.numbers, [7, 3, 3, 10, 2, 4, 1])
        XCTAssertEqual(try ArithmeticExpression("1/3 + 1/6").value, ExactRational(1, 2))
        XCTAssertEqual(try ArithmeticExpression("8 − 2 × 3 ÷ 4").value, ExactRational(13, 2))
        XCTAssertEqual(try ArithmeticExpression("2 - 5").value, ExactRational(-3))
        for (bad, message) in [("2 +", "ends where a number or '(' was expected"), ("3.5", "unexpected '.' at offset 1"),
                               ("-3 + 5", "expected a number or '(' at offset 0, found '-'"), ("4 / (2 - 2)", "division by zero"),
                               ("(1 + 2", "missing ')' for the '(' it opened"), ("x", "expected a number or '(' at offset 0, found 'x'"),
                               ("99999999999 * 99999999999", "the value overflows 64-bit integers"),
                               ("99999999999999999999", "a number is too large"),
                               (String(repeating: "(", count: 100) + "1" + String(repeating: ")", count: 100), "parentheses nested deeper than 64"),
                               (String(repeating: "1+", count: 600) + "1", "longer than 1000 characters")] {
            XCTAssertThrowsError(try ArithmeticExpression(bad), bad) { error in XCTAssertEqual("\(error)", message, bad) }
        }
    }
}
