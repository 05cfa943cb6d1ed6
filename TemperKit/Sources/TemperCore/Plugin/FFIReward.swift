import CFFI
import Foundation

/// A C function prepared for libffi once (`ffi_prep_cif`), then called many times.
final class FFIFunction {
    let symbol: String
    let signature: CRewardSignature
    private let address: @convention(c) () -> Void
    private let cif: UnsafeMutablePointer<ffi_cif>
    private let argumentTypes: UnsafeMutablePointer<UnsafeMutablePointer<ffi_type>?>
    private let argumentCount: Int

    /// Prepares the call interface of `address` for `signature`.
    init(symbol: String, address: UnsafeMutableRawPointer, signature: CRewardSignature) throws {
        let types: [UnsafeMutablePointer<ffi_type>?]
        switch signature {
        case .text:
            types = [temper_ffi_type_pointer(), temper_ffi_type_pointer(), temper_ffi_type_pointer()]
        case .full:
            types = [temper_ffi_type_pointer(), temper_ffi_type_pointer(), temper_ffi_type_pointer(),
                     temper_ffi_type_sint64(), temper_ffi_type_pointer(), temper_ffi_type_pointer()]
        }
        self.symbol = symbol
        self.signature = signature
        self.address = unsafeBitCast(address, to: (@convention(c) () -> Void).self)
        argumentCount = types.count
        argumentTypes = .allocate(capacity: types.count)
        argumentTypes.initialize(from: types, count: types.count)
        cif = .allocate(capacity: 1)
        let status = ffi_prep_cif(cif, FFI_DEFAULT_ABI, UInt32(types.count), temper_ffi_type_double(), argumentTypes)
        guard status == FFI_OK else {
            cif.deallocate()
            argumentTypes.deallocate()
            throw SpecError("ffi_prep_cif failed for \(symbol) (status \(status.rawValue))")
        }
    }

    deinit {
        cif.deallocate()
        argumentTypes.deallocate()
    }

    /// Calls the function with argument slots `values` (each a pointer to the argument's storage).
    func call(_ values: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> Double {
        var result: Double = 0
        ffi_call(cif, address, &result, values)
        return result
    }

    /// Calls a `.text` or `.full` reward once.
    func callReward(prompt: UnsafePointer<CChar>, completion: UnsafePointer<CChar>, ids: UnsafePointer<Int32>?, idCount: Int64,
                    columns: UnsafePointer<UnsafePointer<CChar>?>?, params: UnsafePointer<Double>?) -> Double {
        var a0: UnsafePointer<CChar>? = prompt, a1: UnsafePointer<CChar>? = completion
        var a2 = ids, a3 = idCount, a4 = columns, a5 = params
        return withUnsafeMutablePointer(to: &a0) { p0 in
            withUnsafeMutablePointer(to: &a1) { p1 in
                withUnsafeMutablePointer(to: &a2) { p2 in
                    withUnsafeMutablePointer(to: &a3) { p3 in
                        withUnsafeMutablePointer(to: &a4) { p4 in
                            withUnsafeMutablePointer(to: &a5) { p5 in
                                var slots: [UnsafeMutableRawPointer?]
                                switch signature {
                                case .text: slots = [UnsafeMutableRawPointer(p0), UnsafeMutableRawPointer(p1), UnsafeMutableRawPointer(p4)]
                                case .full: slots = [UnsafeMutableRawPointer(p0), UnsafeMutableRawPointer(p1), UnsafeMutableRawPointer(p2),
                                                     UnsafeMutableRawPointer(p3), UnsafeMutableRawPointer(p4), UnsafeMutableRawPointer(p5)]
                                }
                                precondition(slots.count == argumentCount)
                                return slots.withUnsafeMutableBufferPointer { call($0.baseAddress!) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A reward implemented by a C function from a C plugin's manifest, called through libffi.
final class CReward: RewardScoring {
    let name: String
    let function: FFIFunction
    let columns: [String]
    let parameterValues: [Double]

    init(name: String, function: FFIFunction, columns: [String], config: ComponentConfig, parameters: [ParameterSpec]) throws {
        self.name = name
        self.function = function
        self.columns = columns
        parameterValues = try parameters.map { p in
            if case .bool(let b) = config.values[p.name] { return b ? 1 : 0 }
            return try config.double(p.name)
        }
    }

    func score(_ batch: RewardBatch) throws -> [Float?] {
        try batch.validate()
        let cells = try columns.map { try batch.column($0, for: name) }
        // C strings live until the end of the batch; one array of column pointers per completion.
        var owned: [UnsafeMutablePointer<CChar>] = []
        defer { owned.forEach { free($0) } }
        func c(_ s: String) -> UnsafeMutablePointer<CChar> { let p = strdup(s)!; owned.append(p); return p }
        let columnSlots = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(columns.count, 1))
        defer { columnSlots.deallocate() }
        var scores: [Float?] = []
        scores.reserveCapacity(batch.count)
        for i in 0..<batch.count {
            for (j, column) in cells.enumerated() {
                columnSlots[j] = column[i] == .null ? nil : UnsafePointer(c(column[i].text))
            }
            let prompt = c(batch.prompts[i]), completion = c(batch.completions[i])
            let ids = batch.completionTokenIDs[i]
            let value = ids.withUnsafeBufferPointer { idBuffer in
                parameterValues.withUnsafeBufferPointer { params in
                    function.callReward(prompt: prompt, completion: completion, ids: idBuffer.baseAddress, idCount: Int64(ids.count),
                                        columns: UnsafePointer(columnSlots), params: params.baseAddress)
                }
            }
            scores.append(value.isNaN ? nil : Float(value))
        }
        return scores
    }
}
