import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// `temper data make` and `temper reward`, run as the built executable.
final class DataAndRewardCommandTests: XCTestCase {
    private var temper: String { TestPlugins.buildFolder + "/temper" }
    private var folder: URL!

    override func setUpWithError() throws { folder = try makeTemporaryFolder("data-reward") }

    private func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        var env = ProcessInfo.processInfo.environment
        env["TEMPER_PLUGIN_PATH"] = nil
        return try TestSupport.run(temper, arguments, environment: env)
    }

    private func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    private func write(_ rows: [[String: Any]], _ name: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        let lines = try rows.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) }
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testMakeIsSeededWritesAtomicallyAndKeepsSplitsApart() throws {
        let train = folder.appendingPathComponent("train.jsonl").path, test = folder.appendingPathComponent("test.jsonl").path
        let made = try run(["data", "make", "addition", "--n", "400", "--seed", "3", "--digits", "2", "--output", train])
        XCTAssertEqual(made.status, 0, made.err)
        XCTAssertEqual(made.out, "")
        XCTAssertEqual(made.err, "wrote 400 train problems of addition to \(train) (grade with --reward math-equiv)\n")
        let stdout = try run(["data", "make", "addition", "--n", "400", "--seed", "3", "--digits=2"])
        XCTAssertEqual(stdout.out, try String(contentsOfFile: train, encoding: .utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["train.jsonl"], "no temporary file left")
        XCTAssertEqual(try run(["data", "make", "addition", "--n", "60", "--seed", "9", "--split", "test", "--digits", "2", "--output", test]).status, 0)
        let trainRows = try jsonLines(try String(contentsOfFile: train, encoding: .utf8))
        let testRows = try jsonLines(try String(contentsOfFile: test, encoding: .utf8))
        XCTAssertEqual(trainRows.count, 400)
        XCTAssertEqual(testRows.count, 60)
        let prompt = { (row: [String: Any]) in ((row["prompt"] as! [[String: String]])[0])["content"]! }
        XCTAssertTrue(Set(trainRows.map(prompt)).isDisjoint(with: testRows.map(prompt)))
        for row in trainRows {
            let ops = prompt(row).split { !$0.isNumber }.map { Int($0)! }
            XCTAssertEqual(row["answer"] as? String, String(ops[0] + ops[1]))
        }
        let plain = try jsonLines(try run(["data", "make", "sorting", "--n", "2", "--plain", "--length", "3"]).out)
        XCTAssertTrue(plain[0]["prompt"] is String)
        // An output in a folder that does not exist yet: the folder is made, the file written.
        let nested = folder.appendingPathComponent("runs/prm/train.jsonl").path
        let intoNew = try run(["data", "make", "addition", "--n", "400", "--seed", "3", "--digits", "2", "--output", nested])
        XCTAssertEqual(intoNew.status, 0, intoNew.err)
        XCTAssertEqual(try String(contentsOfFile: nested, encoding: .utf8), stdout.out)
    }

    func testMakeReportsBadInput() throws {
        let typo = try run(["data", "make", "countdown", "--n", "5", "--max-numbr", "10"])
        XCTAssertNotEqual(typo.status, 0)
        XCTAssertTrue(typo.err.contains("countdown: unknown parameter 'max_numbr'. Did you mean 'max_number'?"), typo.err)
        let task = try run(["data", "make", "adition", "--n", "5"])
        XCTAssertTrue(task.err.contains("unknown task 'adition'. Did you mean 'addition'?"), task.err)
        let range = try run(["data", "make", "addition", "--n", "5", "--digits", "0"])
        XCTAssertTrue(range.err.contains("addition: digits"), range.err)
        let split = try run(["data", "make", "addition", "--n", "5", "--split", "dev"])
        XCTAssertNotEqual(split.status, 0)
        XCTAssertTrue(split.err.contains("dev"), split.err)
    }

    /// Every task's own solutions earn full reward from the reward it names; wrong ones do not.
    func testEachTaskIsGradedByItsReward() throws {
        for (task, reward) in [("addition", "math-equiv"), ("multiplication", "math-equiv"), ("countdown", "countdown"),
                               ("sorting", "exact-match:ignore_punctuation=true"), ("word-problems", "math-equiv"),
                               ("long-addition", "math-equiv"), ("arithmetic-chain", "math-equiv"),
                               ("one-step-word-problems", "math-equiv")] {
            let made = try run(["data", "make", task, "--n", "40", "--seed", "5", "--with-solution"])
            XCTAssertEqual(made.status, 0, made.err)
            var rows = try jsonLines(made.out)
            for k in rows.indices {
                let solution = rows[k].removeValue(forKey: "solution") as! String
                // Every other row gets a wrong completion: the solution with its last digit changed.
                rows[k]["completion"] = k % 2 == 0 ? solution : Self.corrupt(solution)
            }
            let data = try write(rows, "\(task).jsonl")
            let graded = try run(["reward", "--reward", reward, "--data", data])
            XCTAssertEqual(graded.status, 0, graded.err)
            let scored = try jsonLines(graded.out)
            XCTAssertEqual(scored.count, 40)
            for (k, row) in scored.enumerated() {
                XCTAssertEqual(row["index"] as? Int, k + 1, "index is the row's line")
                let expected: Double = k % 2 == 0 ? 1 : (task == "countdown" ? 0.1 : 0)
                XCTAssertEqual(row["reward"] as? Double, expected, "\(task) row \(k): \(rows[k]["completion"]!)")
            }
            let name = String(reward.prefix { $0 != ":" })
            XCTAssertTrue(graded.err.contains(name), graded.err)
            XCTAssertTrue(graded.err.contains("40/40"), graded.err)
        }
    }

    private static func corrupt(_ text: String) -> String {
        guard let i = text.lastIndex(where: \.isNumber) else { return text + "1" }
        let digit = Int(String(text[i]))!
        return text.replacingCharacters(in: i...i, with: String((digit + 1) % 10))
    }

    func testCAndSwiftRewardsCombineWithWeights() throws {
        let data = try write([
            ["prompt": "Capital of France?", "completion": " Paris ", "answer": "paris"],
            ["prompt": [["role": "user", "content": "2+2?"]], "completion": [["role": "user", "content": "2+2?"], ["role": "assistant", "content": "five"]], "answer": "4"],
            ["completion": "anything", "answer": NSNull()],
            ["completion": "Lyon", "answer": "Lyon", "extra": 3],
        ], "mixed.jsonl")
        let r = try run(["reward", "--reward", "c-exact-match:weight=0.5", "--reward", "exact-match", "--reward", "exact-match:ignore_case=false,weight=2", "--data", data])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out.split(separator: "\n"), [
            #"{"index":1,"reward":1.5,"rewards":{"c-exact-match":1,"exact-match":1,"exact-match:ignore_case=false":0}}"#,
            #"{"index":2,"reward":0,"rewards":{"c-exact-match":0,"exact-match":0,"exact-match:ignore_case=false":0}}"#,
            #"{"index":3,"reward":null,"rewards":{"c-exact-match":null,"exact-match":null,"exact-match:ignore_case=false":null}}"#,
            #"{"index":4,"reward":3.5,"rewards":{"c-exact-match":1,"exact-match":1,"exact-match:ignore_case=false":1}}"#,
        ])
        let summary = r.err.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        XCTAssertEqual(summary[0], ["REWARD", "WEIGHT", "MEAN", "STD", "SCORED"])
        XCTAssertEqual(summary[1], ["c-exact-match", "0.5", "0.6667", "0.5774", "3/4"])
        // Totals 1.5, 0, 3.5: mean 5/3, sample std sqrt(37/12).
        XCTAssertEqual(summary[4], ["total", "1.6667", "1.7559", "3/4"])
    }

    func testMalformedRowsAndBadSpecsAreReported() throws {
        let url = folder.appendingPathComponent("bad.jsonl")
        try """
        {"completion": "a", "answer": "a"}

        {"answer": "b"}
        """.write(to: url, atomically: true, encoding: .utf8)
        // The good row is answered; the bad one is reported with its line, on both streams.
        let missing = try run(["reward", "--reward", "exact-match", "--data", url.path])
        XCTAssertEqual(missing.status, 0, missing.err)
        XCTAssertEqual(missing.out.split(separator: "\n"), [
            #"{"index":1,"reward":1,"rewards":{"exact-match":1}}"#,
            #"{"index":3,"error":"field 'completion': missing: every row needs the completion to score"}"#,
        ])
        XCTAssertTrue(missing.err.hasPrefix("skipped \(url.path):3: field 'completion': missing: every row needs the completion to score\n"), missing.err)
        XCTAssertTrue(missing.err.hasSuffix("1 of 2 rows of \(url.path) are malformed and were skipped\n"), missing.err)
        let strict = try run(["reward", "--reward", "exact-match", "--strict", "--data", url.path])
        XCTAssertNotEqual(strict.status, 0)
        XCTAssertEqual(strict.out, missing.out, "--strict still answers the good rows")
        XCTAssertTrue(strict.err.hasSuffix("Error: 1 of 2 rows of \(url.path) are malformed (--strict)\n"), strict.err)
        try #"{"completion": [{"role": "user", "content": "hi"}]}"#.write(to: url, atomically: true, encoding: .utf8)
        XCTAssertTrue(try run(["reward", "--reward", "exact-match", "--data", url.path]).err
            .contains("\(url.path):1: field 'completion': the conversation has no assistant message to score"))
        try "{\"completion\": \"x\", \"completion_ids\": [1, -2]}\nnot json".write(to: url, atomically: true, encoding: .utf8)
        XCTAssertTrue(try run(["reward", "--reward", "exact-match", "--data", url.path]).err
            .contains("\(url.path):1: field 'completion_ids[1]': expected a non-negative 32-bit integer, got the number -2"))
        try "{\"completion\": \"x\"}\nnot json\n".write(to: url, atomically: true, encoding: .utf8)
        XCTAssertTrue(try run(["reward", "--reward", "exact-match", "--data", url.path]).err.contains("\(url.path):2: not valid JSON"))
        try "{\"completion\": \"x\"}\n".write(to: url, atomically: true, encoding: .utf8)
        let noColumn = try run(["reward", "--reward", "exact-match", "--data", url.path])
        XCTAssertTrue(noColumn.err.contains("exact-match failed on lines 1–1: exact-match: needs the dataset column 'answer'; the data has no extra columns"), noColumn.err)
        let unknown = try run(["reward", "--reward", "exact-mach", "--data", url.path])
        XCTAssertTrue(unknown.err.contains("unknown reward 'exact-mach'. Did you mean 'exact-match'?"), unknown.err)
        let none = try run(["reward", "--data", url.path])
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(none.err.contains("give at least one --reward SPEC"), none.err)
    }
}
