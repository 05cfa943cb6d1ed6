/// A relation symbol between two sides of an answer (`x = 5`, `x \le 3`, `x \in [0,1)`).
enum MathRelation: Equatable {
    case equal, notEqual, less, lessEqual, greater, greaterEqual, approx, member

    /// The same relation with its sides swapped (`a < b` ⇔ `b > a`).
    var flipped: MathRelation {
        switch self {
        case .less: return .greater
        case .lessEqual: return .greaterEqual
        case .greater: return .less
        case .greaterEqual: return .lessEqual
        default: return self
        }
    }
}

/// A parsed answer: an expression tree plus the containers graders distinguish (tuples and
/// intervals, sets, bare lists of solutions, unions, matrices) and relations.
indirect enum MathNode {
    case number(Num)
    /// A variable (`x`, `a_1`, `\theta`) or an opaque literal such as a base-5 numeral `204_5`.
    case symbol(String)
    /// Words and `\text{}` content, lower-cased; units when they sit next to a value.
    case text(String)
    case sum([MathNode])
    case neg(MathNode)
    case product([MathNode])
    case quotient(MathNode, MathNode)
    case power(MathNode, MathNode)
    case root(MathNode, index: MathNode)
    case function(String, MathNode)
    case factorial(MathNode)
    case percent(MathNode)
    /// `a ± b` (`minus` for `∓`); a unary `±b` has `a = 0`.
    case plusMinus(MathNode, MathNode)
    /// `(a, b)`, `[a, b)`, ...: points, ordered tuples and intervals, told apart by brackets.
    case tuple([MathNode], open: UInt8, close: UInt8)
    case set([MathNode])
    /// A bare comma list (`1, -2`; `12 and 13`): a list of solutions, order-free.
    case list([MathNode])
    case union([MathNode])
    case matrix([[MathNode]])
    /// `parts[0] rel[0] parts[1] rel[1] ...`.
    case relation([MathNode], [MathRelation])

    /// Whether a percent sign appears anywhere inside.
    /// Whether `leaf` holds for a number, symbol or text anywhere in the expression: the one walk
    /// behind "has a variable" and "has a number".
    func containsLeaf(where leaf: (MathNode) -> Bool) -> Bool {
        switch self {
        case .number, .symbol, .text: return leaf(self)
        case .neg(let a), .factorial(let a), .function(_, let a), .percent(let a): return a.containsLeaf(where: leaf)
        case .quotient(let a, let b), .power(let a, let b), .root(let a, let b), .plusMinus(let a, let b):
            return a.containsLeaf(where: leaf) || b.containsLeaf(where: leaf)
        case .sum(let xs), .product(let xs), .tuple(let xs, _, _), .set(let xs), .list(let xs), .union(let xs), .relation(let xs, _):
            return xs.contains { $0.containsLeaf(where: leaf) }
        case .matrix(let rows): return rows.contains { $0.contains { $0.containsLeaf(where: leaf) } }
        }
    }

    var containsPercent: Bool {
        switch self {
        case .percent: return true
        case .number, .symbol, .text: return false
        case .neg(let a), .factorial(let a), .function(_, let a): return a.containsPercent
        case .quotient(let a, let b), .power(let a, let b), .root(let a, let b), .plusMinus(let a, let b):
            return a.containsPercent || b.containsPercent
        case .sum(let xs), .product(let xs), .tuple(let xs, _, _), .set(let xs), .list(let xs), .union(let xs), .relation(let xs, _):
            return xs.contains { $0.containsPercent }
        case .matrix(let rows): return rows.contains { $0.contains { $0.containsPercent } }
        }
    }

    /// Whether a `±` appears inside a scalar expression (not inside nested containers).
    var containsPlusMinus: Bool {
        switch self {
        case .plusMinus: return true
        case .number, .symbol, .text, .tuple, .set, .list, .union, .matrix, .relation: return false
        case .neg(let a), .factorial(let a), .function(_, let a), .percent(let a): return a.containsPlusMinus
        case .quotient(let a, let b), .power(let a, let b), .root(let a, let b): return a.containsPlusMinus || b.containsPlusMinus
        case .sum(let xs), .product(let xs): return xs.contains { $0.containsPlusMinus }
        }
    }

    /// The expression with each `±` resolved both ways: `1 ± √2` → `[1 + √2, 1 − √2]`.
    /// Capped at three `±` (eight variants) so a pathological answer stays cheap.
    var plusMinusVariants: [MathNode] {
        var count = 0
        func expand(_ n: MathNode) -> [MathNode] {
            switch n {
            case .plusMinus(let a, let b):
                count += 1
                if count > 3 { return [n] }
                var out: [MathNode] = []
                for x in expand(a) { for y in expand(b) { out.append(.sum([x, y])); out.append(.sum([x, .neg(y)])) } }
                return out
            case .neg(let a): return expand(a).map { .neg($0) }
            case .percent(let a): return expand(a).map { .percent($0) }
            case .function(let f, let a): return expand(a).map { .function(f, $0) }
            case .factorial(let a): return expand(a).map { .factorial($0) }
            case .quotient(let a, let b): return combine(expand(a), expand(b)) { .quotient($0, $1) }
            case .power(let a, let b): return combine(expand(a), expand(b)) { .power($0, $1) }
            case .root(let a, let b): return combine(expand(a), expand(b)) { .root($0, index: $1) }
            case .sum(let xs): return expandAll(xs).map { .sum($0) }
            case .product(let xs): return expandAll(xs).map { .product($0) }
            default: return [n]
            }
        }
        func combine(_ a: [MathNode], _ b: [MathNode], _ f: (MathNode, MathNode) -> MathNode) -> [MathNode] {
            a.flatMap { x in b.map { y in f(x, y) } }
        }
        func expandAll(_ xs: [MathNode]) -> [[MathNode]] {
            var acc: [[MathNode]] = [[]]
            for x in xs {
                let vs = expand(x)
                acc = acc.flatMap { prefix in vs.map { prefix + [$0] } }
            }
            return acc
        }
        return expand(self)
    }
}
