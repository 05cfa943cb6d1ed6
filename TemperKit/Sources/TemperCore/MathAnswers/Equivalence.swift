/// How strictly two answers must agree.
struct EquivalenceOptions {
    /// Largest relative difference accepted between a value and an approximation of it (a decimal
    /// for `1/3`, `1.4142136` for `\sqrt{2}`). Two terminating decimals or integers must be equal.
    var relativeTolerance: Double
    /// Whether `(a, b)` and `(b, a)` differ. Intervals and brackets always keep their order.
    var orderedTuples: Bool
}

/// An answer read once for comparison: its parse (two readings when a comma may be a decimal
/// comma) and a text key for answers that are words rather than math.
struct ParsedAnswer {
    let readings: [MathNode]
    let compact: [UInt8]
    private let normalized: [UInt8]

    init(_ raw: [UInt8]) {
        let normalized = MathNormalization.normalize(raw)
        compact = normalized.filter { $0 != UInt8(ascii: " ") }
        self.normalized = normalized
        var readings: [MathNode] = []
        if let node = MathExpressionParser.parse(normalized) { readings.append(Self.dropUnits(node)) }
        if MathExpressionParser.hasAmbiguousComma(normalized), let node = MathExpressionParser.parse(normalized, decimalComma: true) {
            readings.append(Self.dropUnits(node))
        }
        self.readings = readings
    }

    var isEmpty: Bool { compact.isEmpty }

    /// Letters and digits, lower-cased: how word answers are compared (only computed for them).
    var textKey: String { MathExpressionParser.textKey(normalized) }

    /// Whether the answer is words only, a lone letter (a choice such as `C`), or unreadable, so
    /// it is compared as text.
    var isTextual: Bool {
        readings.isEmpty || readings.allSatisfy {
            switch $0 {
            case .text: return true
            case .symbol(let name): return name.count == 1
            default: return false
            }
        }
    }

    /// Removes words that sit next to values (units, currency names, "apples"); an expression made
    /// of words alone becomes one text node.
    static func dropUnits(_ node: MathNode) -> MathNode {
        switch node {
        case .product(let xs):
            let kept = xs.map(dropUnits).filter { !isWord($0) }
            if kept.isEmpty { return .text(xs.compactMap(wordText).joined()) }
            return kept.count == 1 ? kept[0] : .product(kept)
        case .power(let a, _) where isWord(a): return a
        case .sum(let xs): return .sum(xs.map(dropUnits))
        case .neg(let a): return .neg(dropUnits(a))
        case .percent(let a): return .percent(dropUnits(a))
        case .quotient(let a, let b):
            // `60 miles / hour`
            if isWord(b), !isWord(a) { return dropUnits(a) }
            return .quotient(dropUnits(a), dropUnits(b))
        case .plusMinus(let a, let b): return .plusMinus(dropUnits(a), dropUnits(b))
        case .tuple(let xs, let o, let c): return .tuple(xs.map(dropUnits), open: o, close: c)
        case .set(let xs): return .set(xs.map(dropUnits))
        case .list(let xs): return .list(xs.map(dropUnits))
        case .union(let xs): return .union(xs.map(dropUnits))
        case .relation(let xs, let r): return .relation(xs.map(dropUnits), r)
        default: return node
        }
    }

    private static func isWord(_ n: MathNode) -> Bool {
        switch n {
        case .text: return true
        case .power(let a, _): return isWord(a)
        case .product(let xs): return xs.allSatisfy(isWord)
        default: return false
        }
    }

    private static func wordText(_ n: MathNode) -> String? {
        switch n {
        case .text(let t): return t
        case .power(let a, _): return wordText(a)
        case .product(let xs): return xs.compactMap(wordText).joined()
        default: return nil
        }
    }
}

/// Decides whether a completion's answer equals the reference answer mathematically.
///
/// Rules, in order: identical text; then any pair of readings equal under `nodesEqual`; then,
/// when both answers are words (or unreadable), equal text keys. A number never matches a word.
enum Equivalence {
    static func equivalent(_ gold: ParsedAnswer, _ pred: ParsedAnswer, _ options: EquivalenceOptions) -> Bool {
        if gold.isEmpty || pred.isEmpty { return false }
        if gold.compact == pred.compact { return true }
        for g in gold.readings {
            for p in pred.readings where nodesEqual(g, p, options) { return true }
        }
        if gold.isTextual && pred.isTextual {
            let key = gold.textKey
            return !key.isEmpty && key == pred.textKey
        }
        return false
    }

    static func nodesEqual(_ gold: MathNode, _ pred: MathNode, _ o: EquivalenceOptions) -> Bool {
        var g = reduceChains(gold, isReference: true)
        var p = reduceChains(pred, isReference: false)
        // `x = 5` against `5`: only the side that is still a relation loses its left side, when it
        // names what is asked for; an answer's also when it is arithmetic (`\frac{1}{2} = \frac{10}{9}`
        // answers `\frac{10}{9}`), but `2x + z = 1` does not answer `1`.
        if isRelation(g) != isRelation(p) {
            g = dropAssignedVariable(g)
            p = dropAssignedVariable(p, arithmeticToo: true)
        }
        if matrixOperands(g) <= maxMatrixOperands, let m = matrixValue(g) { g = .matrix(m) }
        if matrixOperands(p) <= maxMatrixOperands, let m = matrixValue(p) { p = .matrix(m) }
        switch (g, p) {
        case (.relation(let gp, let gr), .relation(let pp, let pr)):
            return relationsEqual(gp, gr, pp, pr, o)
        case (.relation, _), (_, .relation):
            return false
        case (.text(let a), .text(let b)):
            return a == b
        case (.text, _), (_, .text):
            return false
        case (.matrix(let a), .matrix(let b)):
            guard a.count == b.count, zip(a, b).allSatisfy({ $0.count == $1.count }) else { return false }
            return zip(a, b).allSatisfy { ra, rb in zip(ra, rb).allSatisfy { nodesEqual($0, $1, o) } }
        default:
            break
        }
        let gc = container(g), pc = container(p)
        switch (gc, pc) {
        case (nil, nil):
            return scalarsEqual(g, p, o)
        case (.some(let a), .some(let b)):
            return containersEqual(a, b, o)
        case (.some(let a), nil):
            return singletonEqual(a, p, o)
        case (nil, .some(let b)):
            return singletonEqual(b, g, o, goldIsScalar: true)
        }
    }

    // MARK: - Containers

    private enum Kind: Equatable {
        case tuple(UInt8, UInt8), list, set, union, vector
    }

    private static func container(_ n: MathNode) -> (kind: Kind, items: [MathNode])? {
        switch n {
        case .tuple(let xs, let o, let c): return (.tuple(o, c), xs)
        case .list(let xs): return (.list, xs.flatMap(expandPlusMinus))
        case .set(let xs): return (.set, xs.flatMap(expandPlusMinus))
        case .union(let xs): return (.union, xs)
        case .matrix(let rows) where rows.count == 1: return (.vector, rows[0])
        case .matrix(let rows) where rows.allSatisfy({ $0.count == 1 }): return (.vector, rows.map { $0[0] })
        default:
            if n.containsPlusMinus { return (.list, n.plusMinusVariants) }
            return nil
        }
    }

    private static func expandPlusMinus(_ n: MathNode) -> [MathNode] {
        n.containsPlusMinus ? n.plusMinusVariants : [n]
    }

    private static func containersEqual(_ a: (kind: Kind, items: [MathNode]), _ b: (kind: Kind, items: [MathNode]),
                                        _ o: EquivalenceOptions) -> Bool {
        let paren = Kind.tuple(UInt8(ascii: "("), UInt8(ascii: ")"))
        switch (a.kind, b.kind) {
        case (.tuple, .tuple):
            guard a.kind == b.kind else { return false }
            return a.kind == paren && !o.orderedTuples ? unorderedEqual(a.items, b.items, o) : orderedEqual(a.items, b.items, o)
        case (.list, .list), (.set, .set), (.set, .list), (.list, .set), (.union, .union):
            return sameElements(a.items, b.items, o)
        case (.tuple, .list), (.list, .tuple), (.tuple, .vector), (.vector, .tuple), (.vector, .vector):
            // A point written without brackets, or as a column vector, keeps its order.
            let kinds = [a.kind, b.kind]
            guard kinds.allSatisfy({ $0 == paren || $0 == .list || $0 == .vector }) else { return false }
            return orderedEqual(a.items, b.items, o)
        default:
            return false
        }
    }

    /// A one-element set or list against a bare value (`\{5\}` vs `5`, `\boxed{5}, \boxed{5}`).
    private static func singletonEqual(_ c: (kind: Kind, items: [MathNode]), _ scalar: MathNode, _ o: EquivalenceOptions,
                                       goldIsScalar: Bool = false) -> Bool {
        guard c.kind == .set || c.kind == .list, !c.items.isEmpty else { return false }
        return c.items.allSatisfy { goldIsScalar ? nodesEqual(scalar, $0, o) : nodesEqual($0, scalar, o) }
    }

    private static func orderedEqual(_ a: [MathNode], _ b: [MathNode], _ o: EquivalenceOptions) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { nodesEqual($0, $1, o) }
    }

    /// Set equality: every element of either side equals one of the other (an answer that repeats
    /// a solution, `(3,17), (3,17), (17,3)`, lists the same solutions as `(3,17), (17,3)`).
    private static func sameElements(_ a: [MathNode], _ b: [MathNode], _ o: EquivalenceOptions) -> Bool {
        a.allSatisfy { x in b.contains { nodesEqual(x, $0, o) } } && b.allSatisfy { y in a.contains { nodesEqual($0, y, o) } }
    }

    /// Multiset equality: every element of `a` pairs with a distinct equal element of `b`.
    private static func unorderedEqual(_ a: [MathNode], _ b: [MathNode], _ o: EquivalenceOptions) -> Bool {
        guard a.count == b.count else { return false }
        var used = [Bool](repeating: false, count: b.count)
        outer: for x in a {
            for (k, y) in b.enumerated() where !used[k] && nodesEqual(x, y, o) {
                used[k] = true
                continue outer
            }
            return false
        }
        return true
    }

    // MARK: - Relations

    private static func isRelation(_ n: MathNode) -> Bool {
        if case .relation = n { return true }
        return false
    }

    /// `x = 5+5+1 = 11` → `11`; `x = 1/3 ≈ 0.33` → `x = 1/3`; `x ≈ 11` → `11`; `x \in [0,1)` → `[0,1)`.
    /// A reference's chain of inequalities becomes its interval (`2 < x < 5` → `(2, 5)`); an
    /// answer's stays a relation, so an interval reference is not matched by a chain (math-verify's
    /// default, `allow_set_relation_comp=False`).
    private static func reduceChains(_ n: MathNode, isReference: Bool) -> MathNode {
        guard case .relation(var parts, var rels) = n else { return n }
        if let k = rels.firstIndex(of: .approx) {
            if k == 0 { return parts[1] }
            parts = Array(parts[0...k])
            rels = Array(rels[0..<k])
        }
        if rels == [.member] { return parts[1] }
        if isReference, let interval = interval(parts, rels) { return interval }
        if rels.count >= 2, rels.allSatisfy({ $0 == .equal }) { return parts[parts.count - 1] }
        return rels.isEmpty ? parts[0] : .relation(parts, rels)
    }

    /// `-793 < a < 10` → the interval `(-793, 10)`, `1 \ge x > 0` → `(0, 1]`: a chain of two strict or
    /// non-strict inequalities pointing one way, bounds without variables around an expression with.
    private static func interval(_ parts: [MathNode], _ rels: [MathRelation]) -> MathNode? {
        guard rels.count == 2, MathEvaluation.hasSymbols(parts[1]),
              !MathEvaluation.hasSymbols(parts[0]), !MathEvaluation.hasSymbols(parts[2]) else { return nil }
        let rising: [MathRelation] = [.less, .lessEqual], falling: [MathRelation] = [.greater, .greaterEqual]
        let b: (low: MathNode, high: MathNode, lowRel: MathRelation, highRel: MathRelation)
        if rising.contains(rels[0]), rising.contains(rels[1]) {
            b = (parts[0], parts[2], rels[0], rels[1])
        } else if falling.contains(rels[0]), falling.contains(rels[1]) {
            b = (parts[2], parts[0], rels[1], rels[0])
        } else {
            return nil
        }
        let open = b.lowRel == .less || b.lowRel == .greater ? UInt8(ascii: "(") : UInt8(ascii: "[")
        let close = b.highRel == .less || b.highRel == .greater ? UInt8(ascii: ")") : UInt8(ascii: "]")
        return .tuple([b.low, b.high], open: open, close: close)
    }

    /// `x = 5`, `f(2) = 5`, `(p,q) = (1,2)`, `\text{Area} = 5`, `\frac{NO}{BO} = 5`, `|AB| = 1` → the
    /// right side: a left side that names what is asked for (variables only, no number).
    private static func dropAssignedVariable(_ n: MathNode, arithmeticToo: Bool = false) -> MathNode {
        guard case .relation(let parts, let rels) = n, rels == [.equal] else { return n }
        let arithmetic = arithmeticToo && !MathEvaluation.hasSymbols(parts[0]) && !MathEvaluation.hasSymbols(parts[1])
        return isNameLike(parts[0]) || !containsNumber(parts[0]) || arithmetic ? parts[1] : n
    }

    /// A sum or product of matrices as one matrix (`A + B`, `A B` written out), its entries left
    /// as expressions; nil for anything else or mismatched shapes.
    /// The most matrices one sum or product of matrices may combine before it is evaluated: every
    /// factor of a chained product re-uses the entries so far, so the entries' trees grow
    /// exponentially with the factors, and a crafted answer of forty factors would stall the grader.
    static let maxMatrixOperands = 8

    /// The matrices `n` combines through sums, products and negations (what `matrixValue` evaluates).
    private static func matrixOperands(_ n: MathNode) -> Int {
        switch n {
        case .matrix: return 1
        case .neg(let a): return matrixOperands(a)
        case .sum(let xs), .product(let xs): return xs.reduce(0) { $0 + matrixOperands($1) }
        default: return 0
        }
    }

    private static func matrixValue(_ n: MathNode) -> [[MathNode]]? {
        func shape(_ m: [[MathNode]]) -> (Int, Int)? {
            guard let cols = m.first?.count, cols > 0, m.allSatisfy({ $0.count == cols }) else { return nil }
            return (m.count, cols)
        }
        switch n {
        case .matrix(let rows):
            return shape(rows) == nil ? nil : rows
        case .neg(let a):
            return matrixValue(a).map { $0.map { $0.map { .neg($0) } } }
        case .sum(let xs):
            let ms = xs.compactMap(matrixValue)
            guard ms.count == xs.count, let first = ms.first, let s = shape(first), ms.allSatisfy({ shape($0).map { $0 == s } ?? false }) else { return nil }
            return (0..<s.0).map { i in (0..<s.1).map { j in .sum(ms.map { $0[i][j] }) } }
        case .product(let xs):
            let ms = xs.compactMap(matrixValue)
            guard ms.count == xs.count, var product = ms.first else { return nil }
            for m in ms.dropFirst() {
                guard let left = shape(product), let right = shape(m), left.1 == right.0 else { return nil }
                product = product.map { row in (0..<right.1).map { j in .sum((0..<left.1).map { k in .product([row[k], m[k][j]]) }) } }
            }
            return product
        default:
            return nil
        }
    }

    private static func containsNumber(_ n: MathNode) -> Bool {
        n.containsLeaf { if case .number = $0 { return true } else { return false } }
    }

    private static func isNameLike(_ n: MathNode) -> Bool {
        switch n {
        case .symbol, .text: return true
        case .tuple(let xs, _, _): return xs.allSatisfy { if case .symbol = $0 { return true } else { return false } }
        case .product(let xs):
            // A function value such as `f(2)` or `P(A)`.
            guard xs.count == 2, case .symbol = xs[0] else { return false }
            switch xs[1] {
            case .symbol, .number, .tuple: return true
            default: return false
            }
        default: return false
        }
    }

    private static func relationsEqual(_ gp: [MathNode], _ gr: [MathRelation], _ pp: [MathNode], _ pr: [MathRelation],
                                       _ o: EquivalenceOptions) -> Bool {
        if gr.count == 1, pr.count == 1 {
            let hasVars = gp.contains(where: MathEvaluation.hasSymbols) || pp.contains(where: MathEvaluation.hasSymbols)
            if hasVars, let same = sameSolutionSet(gp[0], gr[0], gp[1], pp[0], pr[0], pp[1], o) { return same }
        }
        if gr == pr, orderedEqual(gp, pp, o) { return true }
        return gr.reversed().map(\.flipped) == pr && orderedEqual(gp.reversed(), pp, o)
    }

    /// Equations and inequalities as `f(vars) ⋈ 0`: equal when `f_pred = c · f_gold` for a constant
    /// `c` (positive for inequalities, so `-x > -1` matches `x < 1` and `x > -1` does not).
    private static func sameSolutionSet(_ gl: MathNode, _ gr: MathRelation, _ gRight: MathNode,
                                        _ pl: MathNode, _ pr: MathRelation, _ pRight: MathNode,
                                        _ o: EquivalenceOptions) -> Bool? {
        func oriented(_ l: MathNode, _ r: MathRelation, _ rr: MathNode) -> (MathNode, MathRelation)? {
            switch r {
            case .equal, .notEqual, .less, .lessEqual: return (.sum([l, .neg(rr)]), r)
            case .greater, .greaterEqual: return (.sum([rr, .neg(l)]), r.flipped)
            default: return nil
            }
        }
        guard let (fg, rg) = oriented(gl, gr, gRight), let (fp, rp) = oriented(pl, pr, pRight) else { return nil }
        guard rg == rp else { return false }
        var ratio: Double? = nil
        var valid = 0
        for point in 0..<MathEvaluation.samplePoints {
            let a = MathEvaluation.value(fg, point: point, percentAsFraction: false).double
            let b = MathEvaluation.value(fp, point: point, percentAsFraction: false).double
            guard a.isFinite, b.isFinite else {
                if a.isFinite != b.isFinite { return false }
                continue
            }
            let scale = max(abs(a), abs(b), 1)
            if abs(a) <= 1e-9 * scale {
                if abs(b) > 1e-9 * scale { return false }
                continue
            }
            let r = b / a
            if let ratio {
                if abs(r - ratio) > max(o.relativeTolerance, 1e-9) * abs(ratio) { return false }
            } else {
                if r == 0 || ((rg != .equal && rg != .notEqual) && r < 0) { return false }
                ratio = r
            }
            valid += 1
        }
        return valid >= 2
    }

    // MARK: - Scalars

    /// Two expressions without containers. A percent on one side only may be read either as its
    /// number (MATH's convention: `50\%` = `50`) or as a fraction (`50\%` = `0.5`).
    private static func scalarsEqual(_ g: MathNode, _ p: MathNode, _ o: EquivalenceOptions) -> Bool {
        if valuesEqual(g, false, p, false, o) { return true }
        let gp = g.containsPercent, pp = p.containsPercent
        if gp && !pp { return valuesEqual(g, true, p, false, o) }
        if pp && !gp { return valuesEqual(g, false, p, true, o) }
        return false
    }

    private static func valuesEqual(_ g: MathNode, _ gPct: Bool, _ p: MathNode, _ pPct: Bool, _ o: EquivalenceOptions) -> Bool {
        if !MathEvaluation.hasSymbols(g) && !MathEvaluation.hasSymbols(p) {
            return numbersEqual(MathEvaluation.value(g, point: nil, percentAsFraction: gPct),
                                MathEvaluation.value(p, point: nil, percentAsFraction: pPct), o.relativeTolerance)
        }
        var valid = 0
        for point in 0..<MathEvaluation.samplePoints {
            let a = MathEvaluation.value(g, point: point, percentAsFraction: gPct).double
            let b = MathEvaluation.value(p, point: point, percentAsFraction: pPct).double
            if a.isNaN && b.isNaN { continue }
            guard a.isFinite, b.isFinite else { if a != b { return false }; continue }
            guard close(a, b, max(o.relativeTolerance, 1e-9)) else { return false }
            valid += 1
        }
        return valid >= 2
    }

    /// Exact rationals must be equal, except that a rational without a finite decimal expansion
    /// (1/3) may be matched by a decimal within the tolerance; approximate values use the tolerance.
    static func numbersEqual(_ a: Num, _ b: Num, _ tolerance: Double) -> Bool {
        if case .exact(let x) = a, case .exact(let y) = b {
            if x == y { return true }
            if x.terminates == y.terminates { return false }
            return close(x.double, y.double, tolerance)
        }
        let x = a.double, y = b.double
        if x.isNaN || y.isNaN { return false }
        if x.isInfinite || y.isInfinite { return x == y }
        return close(x, y, tolerance)
    }

    private static func close(_ x: Double, _ y: Double, _ tolerance: Double) -> Bool {
        let d = abs(x - y)
        return d <= tolerance * max(abs(x), abs(y)) || d <= 1e-12
    }
}
