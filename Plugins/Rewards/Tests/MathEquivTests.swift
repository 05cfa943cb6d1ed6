import TemperCore
import TemperTestSupport
import XCTest

/// math-equiv, loaded from the built libTemperPluginRewards.so through the plugin loader: tables of
/// equivalent and non-equivalent answers (each pair checked in both directions), extraction from
/// whole completions, traps, options and errors.
final class MathEquivTests: XCTestCase {
    override func setUp() {
        TestPlugins.loadBuilt(requiring: ["math-equiv"])
    }

    private func score(_ spec: String = "math-equiv", golds: [ColumnValue], _ completions: [String],
                       column: String = "answer") throws -> [Float?] {
        let reward = try ComponentRegistry.shared.reward(spec).reward
        return try reward.score(RewardBatch(prompts: completions.map { _ in "q" }, completions: completions,
                                            columns: [column: golds]))
    }

    /// Scores every pair as reference `a` / boxed completion `b` and the other way round, and
    /// returns the failures (pairs whose score differs from `expected`), each with its direction.
    private func check(_ pairs: [(String, String)], expected: Float, spec: String = "math-equiv") throws -> [String] {
        let golds = pairs.map { ColumnValue.string($0.0) } + pairs.map { ColumnValue.string($0.1) }
        let completions = pairs.map { "The answer is $\\boxed{\($0.1)}$." } + pairs.map { "The answer is $\\boxed{\($0.0)}$." }
        let scores = try score(spec, golds: golds, completions)
        var failures: [String] = []
        for (k, s) in scores.enumerated() where s != expected {
            let (a, b) = k < pairs.count ? pairs[k] : (pairs[k - pairs.count].1, pairs[k - pairs.count].0)
            failures.append("gold \(a) vs answer \(b): \(s.map { "\($0)" } ?? "nil")")
        }
        return failures
    }

    func testEquivalentNumbers() throws {
        let pairs: [(String, String)] = [
            ("1000", "1,000"), ("7425000", "7,425,000"), ("1000", "1 000"), ("1000", "1000.0"), ("1000.0", "1,000.0"),
            ("1000.99", "1000,99"), ("1.22", "1,22"), ("0,111", "0.111"), ("1.5", "1,5"), ("0.4", ".4"),
            ("1000.99", "\\$1,000.99"), ("1000.99", "1,000.99\\$"), ("14{,}916", "14916"), ("16,\\!386.20", "16386.2"),
            ("11111111100", "11,\\! 111,\\! 111,\\! 100"), ("-5", "-5"), ("5", "+5"), ("-3", "−3"), ("0", "-0"),
            ("\\frac{1}{2}", "0.5"), ("1/2", "\\frac12"), ("\\frac{1}{2}", "\\dfrac{1}{2}"), ("\\frac{1}{2}", "\\tfrac{1}{2}"),
            ("\\frac{1}{3}", "\\cfrac{1}{3}"), ("10/9", "\\frac{10}{9}"), ("-10/9", "-\\frac{10}{9}"), ("-\\frac{10}{9}", "\\frac{-10}{9}"),
            ("\\frac{1}{3}", "\\frac13"), ("1", "\\frac3{3}"), ("\\frac{2}{4}", "\\frac{1}{2}"), ("2.5", "2 1/2"),
            ("\\frac{5}{2}", "2\\frac{1}{2}"), ("-\\frac{5}{2}", "-2\\frac12"), ("\\frac{1}{12}", "0.0833333333333333"),
            ("0.\\overline{3}", "\\frac13"), ("0.1\\overline{6}", "\\frac{1}{6}"),
            ("1000", "1e3"), ("1000", "1\\times10^3"), ("0.001", "1e-3"), ("1500", "1.5 \\cdot 10^{3}"), ("2.5\\times 10^{-2}", "0.025"),
            ("5", "5 dollars"), ("5", "5 cm"), ("15", "15\\text{ cm}^2"), ("15\\mbox{ cm}^2", "15"), ("125 miles", "125\\textnormal{ miles}"),
            ("18.5", "\\$18.50"), ("36", "36 \\text{square units}"), ("60", "60 mph"), ("7", "7 apples"),
            ("90", "90^\\circ"), ("90^\\circ", "90°"), ("90", "90^{\\circ}"), ("90", "90 degrees"),
            ("28\\%", "28 percent"), ("28\\%", "28 %"), ("28\\%", "28"), ("50\\%", "\\frac{1}{2}"), ("12.5\\%", "0.125"),
            ("5!", "120"), ("\\binom{5}{2}", "10"), ("|-3|", "3"), ("\\log_2 8", "3"), ("2^{10}", "1024"), ("(-2)^3", "-8"),
            ("\\frac{7}{9} \\cdot 10", "\\frac{70}{9}"), ("0.25", "\\frac{1}{4}"), ("\\frac{3}{56}", "\\frac{6}{112}"),
        ]
        XCTAssertEqual(try check(pairs, expected: 1), [])
    }

    func testEquivalentRadicalsAndConstants() throws {
        let pairs: [(String, String)] = [
            ("\\sqrt{2}", "\\sqrt2"), ("\\sqrt{3}", "\\sqrt 3"), ("2\\sqrt{3}", "2\\sqrt3"), ("2\\sqrt{3}", "\\sqrt{12}"),
            ("2", "\\sqrt[3]{8}"), ("3\\sqrt{13}", "\\sqrt{117}"), ("\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt{3}"),
            ("\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}"), ("\\sqrt{2}", "2^{1/2}"), ("\\sqrt{2}", "1.41421356"),
            ("\\frac{9}{4}\\pi", "\\frac94\\pi"), ("2\\pi", "2π"), ("\\pi/2", "\\frac{\\pi}{2}"), ("\\sqrt{2}+\\sqrt{5}", "\\sqrt 2+\\sqrt 5"),
            ("\\frac{5\\sqrt{42}}{27}", "\\frac{10\\sqrt{10.5}}{27}"), ("\\frac{\\sqrt{\\sqrt{11}+\\sqrt{194}}}{15+2\\sqrt{33}}", "\\frac{\\sqrt{\\sqrt{11}+\\sqrt{194}}}{2\\sqrt{33}+15}"),
            ("e^{2}", "e^2"), ("\\infty", "\\infty"), ("-\\infty", "-∞"), ("\\sqrt{-8}", "\\sqrt{-8}"),
        ]
        XCTAssertEqual(try check(pairs, expected: 1), [])
    }

    func testEquivalentStructures() throws {
        let pairs: [(String, String)] = [
            ("(1,2)", "\\left(1, 2\\right)"), ("(3, \\frac{\\pi}{2})", "\\left( 3, \\frac{\\pi}{2} \\right)"), ("(1,\\frac{9}{2})", "(1,4.5)"),
            ("[0,1)", "[0, 1)"), ("(-\\infty, 3]", "(-\\infty,3]"), ("(\\frac{3}{5},\\frac{8}{3}]", "(0.6,\\frac{8}{3}]"),
            ("[-1, -\\frac{1}{2}) \\cup (-\\frac{1}{2}, 0) \\cup (0, 1) \\cup (1, \\infty)", "[-1, -\\tfrac12) \\cup (-\\tfrac12, 0) \\cup (0, 1) \\cup (1, \\infty)"),
            ("(2, 12) \\cup (12, 102)", "(12,102)\\cup(2,12)"), ("\\{-1\\} \\cup [0,7)", "x \\in \\{-1\\} \\cup [0,7)"), ("[-2, 7]", "x \\in [-2,7]"),
            ("\\{1,2,3\\}", "\\{3,1,2\\}"), ("-2,1", "1,-2"), ("x = 1, 2", "2, 1"), ("1, 2", "\\{1, 2\\}"), ("12\\text{ and }13", "12 and 13"),
            ("1 \\pm \\sqrt{19}", "1+\\sqrt{19}, 1-\\sqrt{19}"), ("3 \\pm 2 \\sqrt{2}", "3-2\\sqrt2, 3+2\\sqrt2"),
            ("\\{1\\pm\\sqrt{5},-2\\}", "-2, 1+\\sqrt5, 1-\\sqrt5"), ("(1,3)", "{1,3}"), ("(6,31,-1)", "(p,q,r) = (6,31,-1)"),
            ("\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}", "\\left[\\begin{array}{cc}1 & 2 \\\\3 & 4\\end{array}\\right]"),
            ("\\begin{bmatrix}0 & 0 \\\\0 & 0\\end{bmatrix}", "\\begin{pmatrix}0&0\\\\0&0\\end{pmatrix}"),
            ("\\begin{pmatrix}\\frac{1}{2} & \\frac{3}{4} \\\\ \\frac{5}{6} & \\frac{7}{8}\\end{pmatrix}", "\\begin{pmatrix}0.5 & 0.75 \\\\ \\frac{10}{12} & 0.875\\end{pmatrix}"),
            ("\\begin{pmatrix} 3 \\\\ 2 \\\\ -6 \\end{pmatrix}", "(3, 2, -6)"),
        ]
        XCTAssertEqual(try check(pairs, expected: 1), [])
    }

    func testEquivalentAlgebraAndRelations() throws {
        let pairs: [(String, String)] = [
            ("x^2+2x+1", "(x+1)^2"), ("\\frac{x+2}{7}", "\\frac{x}{7}+\\frac{2}{7}"), ("\\tan^2(y)+1", "\\sec^2(y)"),
            ("2 \\sin b \\cos a", "2\\cos a \\sin b"), ("\\frac{\\pi r}{h+r}", "\\frac{r\\pi}{r+h}"), ("2-2p", "-2p+2"),
            ("a^2 - b^2", "(a-b)(a+b)"), ("\\frac{1}{x}", "x^{-1}"), ("x^{1/2}", "\\sqrt{x}"), ("3xy", "3yx"), ("\\ln(e^3)", "3"),
            ("5", "x = 5"), ("k=1", "1"), ("11", "x\\approx11"), ("x = 11", "x = 5+5+1 = 7 =11"), ("\\frac{1}{3}", "k = \\frac{1}{3}"),
            ("z = 1 + 1 = 2", "z = 3+3 = 2"), ("x = 1/3", "x = 5+5+1 = 1/3 \\approx 11"), ("y = 2x+3", "2x+3"), ("f(2) = 7", "7"),
            ("2x+4y-3=0", "y=-\\frac{1}{2}x+\\frac{3}{4}"), ("34x+45y-20z+100=0", "-34x-45y+20z-100=0"), ("x-2y+z-1=0", "x-2y+z=1"),
            ("x \\geq 5", "5 \\le x"), ("x \\leq 5", "5 \\geq x"), ("x<1", "-x>-1"), ("x <= 1", "-x >= -1"), ("x >= 5", "x \\geq 5"),
            ("x \\neq 3", "x != 3"), ("x < 3", "x \\lt 3"), ("x > 5", "x \\gt 5"),
            ("\\text{Evelyn}", "Evelyn"), ("\\text{(C)}", "C"), ("\\text{E}", "E"), ("\\text{odd}", "odd"), ("204_5", "204_5"),
        ]
        XCTAssertEqual(try check(pairs, expected: 1), [])
    }

    func testNonEquivalentPairs() throws {
        let pairs: [(String, String)] = [
            ("12", "1/2"), ("12", "\\frac{1}{2}"), ("0.333", "\\frac13"), ("3.14", "\\pi"), ("1.41", "\\sqrt2"), ("1.5", "15"),
            ("32349", "32, 349"), ("16386.16", "16386.17"), ("1000000", "1000000.5"), ("50", "0.5"), ("5", "-5"), ("1", "-1"),
            ("10", "100"), ("1,000", "1"), ("\\frac{1}{2}", "\\frac{2}{1}"), ("2\\sqrt{3}", "3\\sqrt{2}"), ("2\\frac{1}{2}", "1"),
            ("2\\frac{1}{2}", "2"), ("\\frac{1}{3}", "0.3"), ("3", "3.01"), ("2", "\\frac{1+\\sqrt{5}}{2}"), ("4", "\\frac{34}{16}+\\frac{\\sqrt{1358}}{16}"),
            ("1\\sqrt{19}", "1"), ("\\infty", "-\\infty"), ("1112112_3", "1112122_3"), ("204_5", "54"), ("\\sqrt{2}", "2"), ("\\pi", "\\pi^2"),
            ("[0,9)", "[0,1)"), ("(0,9)", "[0,9)"), ("(3,1)", "(1,3)"), ("(3,1)", "{1,3}"), ("[0,1)", "(0,1)"), ("[-3,2]", "(-\\infty,-3]\\cup[2,\\infty)"),
            ("1", "[0,1)"), ("1,2", "1,2,3"), ("\\{1,2\\}", "\\{1,3\\}"), ("(1,2)", "(1,2,3)"), ("1 \\pm \\sqrt{19}", "1+\\sqrt{19}"),
            ("x > 5", "x < 5"), ("x \\geq 5", "x \\leq 5"), ("x<1", "x>-1"), ("x < 1", "x \\le 1"), ("x = 5", "y = 5"),
            ("7 = 11a+c", "11a+c"), ("a+3z=0", "0"), ("2x+z=1", "1"), ("a^2 + b = 0", "0"),
            ("x+2n+1", "x+1"), ("(a+5)(b+2)", "(+5)(b+2)"), ("x^2", "2x"), ("x^2+1", "(x+1)^2"), ("\\sin x", "\\cos x"),
            ("\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}", "\\begin{pmatrix}1 & 2 \\\\ 3 & 5\\end{pmatrix}"),
            ("\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}", "\\begin{pmatrix}1 & 3 \\\\ 2 & 4\\end{pmatrix}"),
            ("\\text{Evelyn}", "\\text{Briana}"), ("\\text{(C)}", "\\text{(D)}"), ("7 apples", "6 apples"), ("5", "five apples"),
            ("2", "AZYUK2A"), ("x", "y"), ("10\\%", "1"),
        ]
        XCTAssertEqual(try check(pairs, expected: 0), [])
    }

    /// Percent: a reference in percent accepts the number with or without the sign and the
    /// fraction it stands for; a plain reference is never matched by a number 100 times off.
    func testPercentIsReadBothWaysOnlyAgainstAPercent() throws {
        XCTAssertEqual(try score(golds: [.string("50\\%"), .string("50\\%"), .string("0.5"), .string("0.5"), .string("50"), .string("50")],
                                 ["\\boxed{0.5}", "\\boxed{50}", "\\boxed{50\\%}", "\\boxed{50}", "\\boxed{0.5}", "\\boxed{50\\%}"]),
                       [1, 1, 1, 0, 0, 1])
    }

    func testExtractionTakesTheFinalAnswer() throws {
        let cases: [(gold: ColumnValue, completion: String, expected: Float)] = [
            (.string("5"), "First guess: \\boxed{3}. Wait, that is wrong. Rechecking, the final answer is \\boxed{5}.", 1),
            (.string("3"), "First guess: \\boxed{3}. Wait, that is wrong. Rechecking, the final answer is \\boxed{5}.", 0),
            (.number(72), "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips.\n#### 72", 1),
            (.string("Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72"), "She sold 72 in total.\n#### 72", 1),
            (.string("1000"), "So the total is 500 + 500.\n#### 1,000", 1),
            (.string("42"), "Adding them up, the answer is 42.", 1),
            (.string("\\frac{1}{2}"), "Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.", 1),
            (.string("34"), "Final Answer: The largest $n$ is 34.", 1),
            (.string("28\\%"), "Final Answer: The final answer is $28 \\%$. I hope it is correct.", 1),
            (.string("18"), "She has 20 - 2 = 18 apples left.", 1),
            (.string("(7,6)"), "So the ordered pair $(x, y)$ that solves the system is $(7, 6)$.", 1),
            (.string("7"), "<think>maybe it is 5</think><answer>7</answer>", 1),
            (.string("5"), "<think>maybe it is 5</think><answer>7</answer>", 0),
            (.string("7"), "<think>try \\boxed{5}</think><answer>The answer is \\boxed{7}</answer>", 1),
            (.string("1/2"), "First I thought 12. After fixing the carry, the answer is 1/2", 1),
            (.string("12"), "First I thought 12. After fixing the carry, the answer is 1/2", 0),
            (.string("1,-2"), "The integers are \\boxed{-2} and \\boxed{1}.", 1),
            (.string("5"), "It is either \\boxed{3} or \\boxed{5}.", 0),
            (.string("3, 5"), "It is either \\boxed{3} or \\boxed{5}.", 1),
            (.string("0"), "The answer is \\boxed{}.", 0),
            (.string("12"), "so the total is \\boxed{12", 0),
            (.string("\\frac{14}{3}"), "$f(-2)+f(-1)+f(0)=2+\\frac{5}{3}+1=\\boxed{\\frac{14}{3}}$", 1),
            (.string("$\\boxed{2-2p}$"), "Thus $x-p=\\boxed{2-2p}$.", 1),
            (.string("If $x<2$, then $x - p = \\boxed{2-2p}$."), "We get $\\boxed{2 - 2p}$", 1),
            (.string("16386.20"), "Rounded to the nearest cent, it is worth $\\boxed{\\$16,\\!386.20}$ at the end.", 1),
            (.string("9"), "Answer \\[ \n 9 \n \\]", 1),
            (.string("9"), "Answer \\( 9 \\)", 1),
            (.string("10"), "Answer \\( (9+1) \\)", 1),
            (.string("2.74"), "Soucis : 2,74 € a..", 1),
            (.string("1000.99"), "the number is not 10 which is 1,000.99€", 1),
        ]
        let scores = try score(golds: cases.map(\.gold), cases.map(\.completion))
        for (c, s) in zip(cases, scores) {
            XCTAssertEqual(s, c.expected, "gold \(c.gold) vs completion \(c.completion)")
        }
    }

    /// Completions shaped like real model output on MATH (answers restated in prose, a chat
    /// template's next turn, revised answers), graded against MATH-style references.
    func testRealisticCompletions() throws {
        let cases: [(gold: String, completion: String, expected: Float)] = [
            ("$12$", "Since $d$ must be an integer, $n$ must be a divisor of 90, and $d = \\frac{90}{n}$ for each. Therefore, there are 12 distinct arithmetic sequences that meet the three given conditions. I hope it is correct. <|im_start|>user", 1),
            ("$2/3$", "So P(A) - (1/4) * P(A) = 1/2, P(A) = (1/2) * (4/3) P(A) = 2/3 Therefore, the probability that Alice wins the game is 2/3. <|im_start|>user", 1),
            ("$120$", "The length is 5, the width is 6, and the height is 4. Final Answer: The volume of $ABCDEFGH$ is 120. I hope it is correct.", 1),
            ("12000023", "The sum is $12,\\!000,\\!023$. Final Answer: The final answer is 12,000,023. I hope it is correct. <|im_start|>user", 1),
            ("$7.78$", "$\\frac{70}{9} \\approx 7.78$ So, Anna pays approximately $7.78 for her fudge. Final Answer: The final answer is 7.78.", 1),
            ("$100%$", "Therefore, the minimum error in the measurement of the position increases by 100%.", 1),
            ("$10455$", "So after six months she has $10,455. Final Answer: The final answer is $10,455$. I hope it is correct.", 1),
            ("Therefore, $(A, B) = \\boxed{(-6, 10)}.$", "Final Answer: The final answer is \\((-6, 10)\\). I hope it is correct.", 1),
            ("$\\\\left( \\\\frac{4}{3}, -\\\\frac{1}{3} \\\\right)$", "Thus, $(t,u) = \\boxed{\\left( \\frac{4}{3}, -\\frac{1}{3} \\right)}.$", 1),
            ("$[0,1)$", "Combining these conditions, the domain is $(0, 1)$. Final Answer: The final answer is $(0, 1)$. I hope it is correct. <|im_start|>user", 0),
            ("$[-3,2]$", "So the domain is $\\boxed{[-3, 2]}$. Let me correct it: the domain is $\\boxed{(-\\infty, -3] \\cup [2, \\infty)}$.", 0),
            ("$28\\%$", "$\\boxed{28}$ pct", 1),
            ("$28\\%$", "$28$ %", 1),
            ("$\\boxed{1}\\boxed{2}$", "$\\boxed{1,2}$", 1),
            ("$n = \\boxed{1,-2}.$", "**Final Answer**\nThe integers are \\boxed{-2} and \\boxed{1}.", 1),
            ("$x \\in [-2,7]$", "Thus, the solution in interval notation is: \\[ \\boxed{[-2, 7]} \\]", 1),
            ("$1112112_3$", "Thus, the product is \\(\\boxed{1112122_3}\\).", 0),
        ]
        let scores = try score(golds: cases.map { .string($0.gold) }, cases.map(\.completion))
        for (c, s) in zip(cases, scores) {
            XCTAssertEqual(s, c.expected, "gold \(c.gold) vs completion \(c.completion)")
        }
    }

    func testExtractionModesAndRequiredFormat() throws {
        let completion = "We compute 6 * 7 = 42, so the answer is 42."
        XCTAssertEqual(try score("math-equiv:extract=hash", golds: [.string("42")], [completion]), [1])
        XCTAssertEqual(try score("math-equiv:extract=hash,require_format=true", golds: [.string("42")], [completion]), [0])
        XCTAssertEqual(try score("math-equiv:require_format=true", golds: [.string("42")], [completion]), [1])
        XCTAssertEqual(try score("math-equiv:require_format=true", golds: [.string("18")], ["She has 20 - 2 = 18 apples left."]), [0])
        XCTAssertEqual(try score("math-equiv:extract=boxed,require_format=true", golds: [.string("7")], ["\\boxed{7} #### 8"]), [1])
        XCTAssertEqual(try score("math-equiv:extract=hash,require_format=true", golds: [.string("7")], ["\\boxed{7} #### 8"]), [0])
        XCTAssertEqual(try score("math-equiv:extract=last-number", golds: [.string("8"), .string("7")], ["\\boxed{7} then 8", "\\boxed{7} then 8"]), [1, 0])
        XCTAssertEqual(try score("math-equiv:extract=answer-tag,require_format=true", golds: [.string("7")], ["the answer is 7"]), [0])
        XCTAssertEqual(try score("math-equiv:extract=answer-is", golds: [.string("7")], ["\\boxed{8}. The answer is 7."]), [1])
    }

    func testToleranceAndOrderOptions() throws {
        let golds: [ColumnValue] = [.string("\\frac{1}{3}"), .string("\\frac{1}{3}"), .string("\\frac{1}{3}"), .string("0.333")]
        let completions = ["\\boxed{0.333}", "\\boxed{0.3333333}", "\\boxed{0.33}", "\\boxed{1/3}"]
        XCTAssertEqual(try score(golds: golds, completions), [0, 1, 0, 0])
        XCTAssertEqual(try score("math-equiv:relative_tolerance=1e-3", golds: golds, completions), [1, 1, 0, 1])
        // Two exact decimals never match within a tolerance: tolerance is for approximations.
        XCTAssertEqual(try score("math-equiv:relative_tolerance=0.1", golds: [.string("16386.16")], ["\\boxed{16386.17}"]), [0])
        XCTAssertEqual(try score(golds: [.string("(1,2)"), .string("[1,2)")], ["\\boxed{(2,1)}", "\\boxed{[2,1)}"]), [0, 0])
        XCTAssertEqual(try score("math-equiv:ordered_tuples=false", golds: [.string("(1,2)"), .string("[1,2)")],
                                 ["\\boxed{(2,1)}", "\\boxed{(2,1]}"]), [1, 0])
    }

    func testMissingReferenceIsNilAndBadSettingsAreErrors() throws {
        XCTAssertEqual(try score(golds: [.null, .string("  "), .string("4")], ["\\boxed{4}", "\\boxed{4}", "4"]), [nil, nil, 1])
        XCTAssertEqual(try score("math-equiv:answer_column=solution", golds: [.string("4")], ["\\boxed{4}"], column: "solution"), [1])
        XCTAssertThrowsError(try score(golds: [.string("4")], ["4"], column: "label")) { error in
            XCTAssertEqual("\(error)", "math-equiv: needs the dataset column 'answer'; the data has label")
        }
        XCTAssertThrowsError(try ComponentRegistry.shared.reward("math-equiv:extract=first")) { error in
            XCTAssertTrue("\(error)".contains("extract"), "\(error)")
        }
        XCTAssertThrowsError(try ComponentRegistry.shared.reward("math-equiv:relative_tolerance=2"))
    }

    func testUnreadableOrHostileInputScoresZeroWithoutCrashing() throws {
        let hostile = ["\\boxed{" + String(repeating: "(", count: 5000) + "}", "\\boxed{\\frac{\\frac{\\frac{}}}}",
                       "\\boxed{99999999999999999999999999^99999}", "\\boxed{0^{-1}}", "\\boxed{\\sqrt[0]{2}}",
                       String(repeating: "\\boxed{1} and \\boxed{2} and ", count: 100), "\\boxed{1/0}", "\\boxed{10!!!!!}", ""]
        let scores = try score(golds: hostile.map { _ in .string("1") }, hostile)
        XCTAssertEqual(scores.count, hostile.count)
        XCTAssertEqual(scores, [0, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    func testLongMatrixProductsAreNotEvaluated() throws {
        // A chained product's entries grow exponentially with its factors: a few are multiplied out,
        // forty (a grader-stalling answer) are compared as written, so they match only themselves.
        let identity = "\\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix}"
        let short = String(repeating: identity, count: 3), long = String(repeating: identity, count: 40)
        XCTAssertEqual(try check([(identity, short)], expected: 1), [])
        XCTAssertEqual(try check([(identity, long)], expected: 0), [])
    }
}
