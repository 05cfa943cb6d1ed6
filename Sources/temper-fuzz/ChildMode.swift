import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The child side of a campaign: `temper-fuzz child TARGET BATCH --from N --scratch DIR
/// --memory-mb M`. Caps its own address space, sets the target up, then runs each input of the
/// batch, announcing its index on descriptor 3 first, so the parent knows which input a trap or a
/// hang belongs to.
enum ChildMode {
    static func run(target: FuzzTarget, batch: URL, from: Int, scratch: URL, memoryMB: Int, material: SeedMaterial) throws -> Never {
        try limitAddressSpace(megabytes: memoryMB)
        let inputs = try InputBatch.read(batch)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        try target.setUp(material, scratch: scratch)
        report("ready")
        var accepted = 0
        for i in from..<inputs.count {
            report(String(i))
            do { try target.execute(inputs[i]); accepted += 1 } catch {}
        }
        report("done \(accepted)")
        exit(0)
    }

    /// Sets RLIMIT_AS: an input that makes the parser allocate past it traps ("failed to allocate")
    /// and is reported as a crash, as an oversized allocation would be on a user's machine.
    static func limitAddressSpace(megabytes: Int) throws {
        var limit = rlimit(rlim_cur: rlim_t(megabytes) << 20, rlim_max: rlim_t(megabytes) << 20)
        guard setrlimit(Int32(RLIMIT_AS.rawValue), &limit) == 0 else {
            throw FuzzError("setrlimit(RLIMIT_AS, \(megabytes) MB): \(String(cString: strerror(errno)))")
        }
    }

    private static func report(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(3, $0.baseAddress, $0.count) }
    }
}
