import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A target that fails on purpose, so the harness itself can be tested: an input holding `TRAP`
/// traps, `ALLOC` allocates 3 GB (past the default 2 GB address-space limit), `HANG` never
/// returns. Not part of `all` or `list`; `temper-fuzz run harness-selftest` must report exactly
/// these three findings, minimized to the word.
final class HarnessSelfTestTarget: FuzzTarget {
    let name = "harness-selftest"
    let summary = "inputs holding TRAP trap, ALLOC allocate 3 GB, HANG never return (tests the harness)"
    let shape = InputShape.text
    let dictionary = ["TRAP", "ALLOC", "HANG"]

    func seeds(_ material: SeedMaterial) throws -> [(bytes: [UInt8], headerEnd: Int)] {
        [(Array("a harmless seed".utf8), 0), (Array("x".utf8), 0)]
    }

    func setUp(_ material: SeedMaterial, scratch: URL) throws {}

    func execute(_ input: [UInt8]) throws {
        let text = String(decoding: input, as: UTF8.self)
        if text.contains("TRAP") { fatalError("harness self-test: TRAP") }
        if text.contains("ALLOC") {
            let big = [UInt8](repeating: 1, count: 3 << 30)
            if big[big.count / 2] != 1 { throw FuzzError("unreachable") }
        }
        if text.contains("HANG") { while true { sleep(1) } }
        throw FuzzError("refused")
    }
}
