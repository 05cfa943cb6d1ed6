import Foundation

/// Checks that a file is a whole ELF shared library for this machine before `dlopen` maps it.
///
/// The dynamic loader trusts the headers: a library cut short by an interrupted build or copy is
/// mapped beyond its end and the first touch of the missing pages kills the process with SIGBUS,
/// and a library for another CPU is reported as "No such file or directory". Checking the header,
/// the program headers and that every loadable segment lies inside the file turns both into a
/// message naming the file and what is wrong.
enum ELFCheck {
    /// `e_machine` of this process's CPU.
    static var hostMachine: (code: UInt16, name: String) {
        #if arch(x86_64)
        return (62, "x86-64")
        #elseif arch(arm64)
        return (183, "AArch64")
        #else
        return (0, "unknown")
        #endif
    }

    /// Throws a `SpecError` saying what is wrong with the library at `path`.
    static func check(_ path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw SpecError("cannot be read") }
        defer { try? handle.close() }
        // The throwing calls: the non-throwing ones trap on an I/O error (a directory, a dead mount).
        func read(_ count: Int, at offset: UInt64) throws -> Data {
            do {
                try handle.seek(toOffset: offset)
                return try handle.read(upToCount: count) ?? Data()
            } catch {
                throw SpecError("cannot be read: \(error.localizedDescription)")
            }
        }
        let size: UInt64
        do { size = try handle.seekToEnd() } catch { throw SpecError("cannot be read: \(error.localizedDescription)") }
        let header = try read(64, at: 0)
        guard header.prefix(4) == Data([0x7f, 0x45, 0x4c, 0x46]) else { throw SpecError("not an ELF shared library") }
        guard header.count == 64 else { throw SpecError("is truncated: \(size) bytes, shorter than an ELF header") }
        guard header[4] == 2 else { throw SpecError("is a 32-bit ELF file; this temper is 64-bit") }
        guard header[5] == 1 else { throw SpecError("is a big-endian ELF file; this machine is little-endian") }
        func u16(_ d: Data, _ at: Int) -> UInt16 { d.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt16.self) } }
        func u32(_ d: Data, _ at: Int) -> UInt32 { d.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt32.self) } }
        func u64(_ d: Data, _ at: Int) -> UInt64 { d.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt64.self) } }
        let type = u16(header, 16), machine = u16(header, 18)
        guard type == 3 else { throw SpecError("is an ELF file of type \(type), not a shared library (type 3, ET_DYN)") }
        let host = hostMachine
        guard machine == host.code else {
            throw SpecError("is built for ELF machine \(machine), not this \(host.name) machine (\(host.code)); rebuild it here")
        }
        let phoff = u64(header, 32), shoff = u64(header, 40)
        let phentsize = UInt64(u16(header, 54)), phnum = UInt64(u16(header, 56))
        let shentsize = UInt64(u16(header, 58)), shnum = UInt64(u16(header, 60))
        func truncated(_ what: String, _ end: UInt64, overflow: Bool = false) -> SpecError {
            overflow ? SpecError("is corrupt: its \(what) lies beyond any file (offset overflow)")
                : SpecError("is truncated: its \(what) ends at byte \(end), the file has \(size) (an interrupted build or copy? rebuild it)")
        }
        guard phentsize == 56, phnum > 0 else { throw SpecError("has no valid program headers (\(phnum) of \(phentsize) bytes)") }
        let (phEnd, phOverflow) = phoff.addingReportingOverflow(phnum * phentsize)
        guard !phOverflow, phEnd <= size else { throw truncated("program header table", phEnd, overflow: phOverflow) }
        if shnum > 0 {
            let (shEnd, shOverflow) = shoff.addingReportingOverflow(shnum * shentsize)
            guard !shOverflow, shEnd <= size else { throw truncated("section header table", shEnd, overflow: shOverflow) }
        }
        let table = try read(Int(phnum * phentsize), at: phoff)
        for i in 0..<Int(phnum) {
            let entry = table.subdata(in: (i * 56)..<(i * 56 + 56))
            guard u32(entry, 0) == 1 else { continue }  // PT_LOAD
            let (end, overflow) = u64(entry, 8).addingReportingOverflow(u64(entry, 32))
            guard !overflow, end <= size else { throw truncated("loadable segment \(i)", end, overflow: overflow) }
        }
    }
}
