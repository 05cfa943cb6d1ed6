/// The unbiased pass@k estimator of Chen et al. 2021 ("Evaluating Large Language Models Trained on
/// Code", arXiv 2107.03374, eq. 1): from n samples of which c are correct, the probability that at
/// least one of k samples drawn without replacement is correct,
///
///     pass@k = 1 − C(n − c, k) / C(n, k),
///
/// computed as 1 − Π_{i = n−c+1}^{n} (1 − k / i), the paper's numerically stable form (no
/// binomial coefficient overflows for large n). Errors name what is out of range.
public func passAtK(samples n: Int, correct c: Int, k: Int) throws -> Double {
    guard n >= 1 else { throw SpecError("pass@k: needs at least 1 sample, got n = \(n)") }
    guard (0...n).contains(c) else { throw SpecError("pass@k: correct samples c = \(c) must be in 0...\(n) (n = \(n))") }
    guard (1...n).contains(k) else { throw SpecError("pass@k: k = \(k) must be in 1...\(n) (n = \(n) samples)") }
    if n - c < k { return 1 }
    var allWrong = 1.0
    for i in (n - c + 1)..<(n + 1) { allWrong *= 1 - Double(k) / Double(i) }
    return 1 - allWrong
}
