using ShadowKV.Compiler.Plans;
using ShadowKV.Runtime.Cuda;
using ShadowKV.Runtime.Engine.Checkpoints;
using ShadowKV.Runtime.Engine.Execution;

namespace ShadowKV.Runtime.Gpu;

// Memory: sizing, admission, allocation and the weight upload.
public sealed partial class GpuBackend
{
    private readonly GpuMemory memory = new();
    private readonly Dictionary<(int M, int N, int K, GemmEpilogue Epilogue, GemmOutputType Output), CublasLtGemm> gemms = [];
    private CublasLtHandle? cublas;
    private SymmetricEigensolver? eigensolver;

    private void Allocate(BoundWeights weights, AdmissionMargins margins)
    {
        // ---- sizes, before anything is allocated ----
        var weightTensors = new List<(BoundWeight Weight, long Offset)>();
        var tensorOffsets = new Dictionary<CheckpointTensor, long>(ReferenceEqualityComparer.Instance);
        long weightBytes = 0;
        foreach (BoundWeight weight in weights.All)
        {
            if (!tensorOffsets.TryGetValue(weight.Tensor, out long offset))
            {
                offset = weightBytes;
                tensorOffsets[weight.Tensor] = offset; // tied weights (lm_head = embed_tokens) are uploaded once
                weightBytes += DeviceArena.AlignUp(weight.Tensor.ElementCount * 2);
            }

            weightTensors.Add((weight, offset));
        }

        // A bias of an f32-output GEMM is added in f32 by cuBLASLt, so it gets an f32 copy.
        var f32Biases = phases.Values.SelectMany(p => p.Steps).Select(s => s.Gemm)
            .Where(g => g?.Bias is not null).Select(g => g!.Bias!).Distinct(StringComparer.Ordinal).ToList();
        var biasTensors = weightTensors.Where(w => f32Biases.Contains(w.Weight.Binding.Name)).ToList();
        long biasBytes = biasTensors.Sum(w => DeviceArena.AlignUp(w.Weight.Tensor.ElementCount * 4));

        long arenaBytes = phases.Values.Max(p => Symbols.ForStep(MaxTokens(p.Kind)).Evaluate(p.ArenaBytes));
        bool needsSolver = phases.Values.Any(p => p.Steps.Any(s => s.Kind == StepKind.Solver));
        long d = Symbols["D"];
        if (needsSolver)
        {
            eigensolver = new SymmetricEigensolver(device, checked((int)d));
        }

        long eigenBytes = needsSolver ? DeviceArena.AlignUp(d * 4) + DeviceArena.AlignUp(eigensolver!.WorkspaceBytes) : 0;
        long workspaceBytes = streams.Count * CublasLtGemm.DefaultMaxWorkspaceBytes;
        PlanCacheLayout(BufferLifetime.Cache, out Dictionary<string, long> cacheOffsets, out long cacheBlockBytes);
        PlanCacheLayout(BufferLifetime.HostCache, out Dictionary<string, long> hostOffsets, out long hostBlockBytes);
        long layers = Symbols["L"];
        long deviceBytes = weightBytes + biasBytes + DeviceArena.AlignUp(arenaBytes) + workspaceBytes + eigenBytes + layers * cacheBlockBytes;
        long pinnedBytes = layers * hostBlockBytes;
        AdmissionControl.EnsureFits(device, new MemoryRequest(
            deviceBytes, pinnedBytes,
            $"{model.Name} ({config.ModelType}, {layers} layers) on {device.Name}, {options.Variant} attention, batch {Symbols["B"]} × {Symbols["S"]} tokens " +
            $"(weights {AdmissionControl.Format(weightBytes + biasBytes)}, arena {AdmissionControl.Format(arenaBytes)}, caches {layers} × {AdmissionControl.Format(cacheBlockBytes)}, " +
            $"pinned {layers} × {AdmissionControl.Format(hostBlockBytes)})",
            "the batch size, the prompt length, the number of new tokens or the sparse budget"), margins);

        // ---- allocation ----
        memory.Weights = DeviceArena.Create(device, Math.Max(weightBytes + biasBytes, DeviceArena.Alignment), "weights");
        memory.Arena = DeviceArena.Create(device, DeviceArena.AlignUp(arenaBytes) + workspaceBytes + eigenBytes, "activations");
        memory.ArenaBytes = arenaBytes;
        memory.Caches = DeviceArena.Create(device, Math.Max(layers * cacheBlockBytes, DeviceArena.Alignment), "caches");
        memory.CacheBlockBytes = cacheBlockBytes;
        memory.CacheOffsets = cacheOffsets;
        memory.HostOffsets = hostOffsets;
        memory.HostBlockBytes = hostBlockBytes;
        if (pinnedBytes > 0)
        {
            memory.Host = PinnedHostPool.Create(device, pinnedBytes, "host caches");
        }

        long extra = DeviceArena.AlignUp(arenaBytes);
        foreach (CudaStream stream in streams.Values)
        {
            memory.GemmWorkspaces[stream.Name] = memory.Arena.Slice(extra, CublasLtGemm.DefaultMaxWorkspaceBytes);
            extra += CublasLtGemm.DefaultMaxWorkspaceBytes;
        }

        if (needsSolver)
        {
            memory.Eigenvalues = memory.Arena.Slice(extra, d * 4);
            memory.SolverWorkspace = memory.Arena.Slice(extra + DeviceArena.AlignUp(d * 4), eigensolver!.WorkspaceBytes);
        }

        memory.DeviceBytes = deviceBytes;
        memory.PinnedBytes = pinnedBytes;
        cublas = CublasLtHandle.Create(device);

        // ---- upload ----
        foreach ((BoundWeight weight, long offset) in weightTensors)
        {
            DeviceBuffer buffer = memory.Weights.Slice(offset, weight.Tensor.ElementCount * 2);
            if (!memory.WeightBuffers.Values.Contains(buffer))
            {
                compute.CopyToDevice<ushort>(buffer, weight.Tensor.ToBFloat16());
                compute.Synchronize(); // the managed array is released after this call
            }

            memory.WeightBuffers[(weight.Binding.Name, weight.Layer ?? -1)] = buffer;
        }

        long biasOffset = weightBytes;
        foreach ((BoundWeight weight, _) in biasTensors)
        {
            DeviceBuffer buffer = memory.Weights.Slice(biasOffset, weight.Tensor.ElementCount * 4);
            biasOffset += DeviceArena.AlignUp(weight.Tensor.ElementCount * 4);
            compute.CopyToDevice<float>(buffer, weight.Tensor.ToFloat32());
            compute.Synchronize();
            memory.F32Biases[(weight.Binding.Name, weight.Layer ?? -1)] = buffer;
        }

        compute.Fill(memory.Caches.Buffer, 0);
        ResetSelectionState(slot: null);
        compute.Synchronize();
    }

    private long MaxTokens(PhaseKind kind) => kind == PhaseKind.Prefill ? Symbols["T"] : Symbols["B"];

    // Cache buffers are shared by the phases of one variant: the compiler gives them one layout per variant, so a
    // buffer sits at the same offset of the layer's block in every phase. A plan that disagrees is refused.
    private void PlanCacheLayout(BufferLifetime lifetime, out Dictionary<string, long> offsets, out long blockBytes)
    {
        offsets = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (PhasePlan phase in phases.Values)
        {
            foreach (BufferSpec spec in phase.Buffers.Where(b => b.Lifetime == lifetime))
            {
                long offset = Symbols.ForStep(MaxTokens(phase.Kind)).Evaluate(spec.Offset);
                if (offsets.TryGetValue(spec.Name, out long seen) && seen != offset)
                {
                    throw new InvalidOperationException(
                        $"Plan error: {lifetime} buffer '{spec.Name}' sits at offset {seen} in one {options.Variant} phase and {offset} in {phase.Name}; the phases must share one cache layout.");
                }

                offsets[spec.Name] = offset;
            }
        }

        string BlockExpression(PhasePlan p) => lifetime == BufferLifetime.Cache ? p.CacheBytesPerLayer : p.HostCacheBytesPerLayer;
        blockBytes = DeviceArena.AlignUp(phases.Values.Max(p => Symbols.ForStep(MaxTokens(p.Kind)).Evaluate(BlockExpression(p))));
    }

    private static long BufferBytes(BufferSpec spec, PlanSymbols symbols)
    {
        if (spec.Name.StartsWith("scratch.", StringComparison.Ordinal))
        {
            return symbols.Evaluate(spec.Shape[0]); // a scratch buffer's one "dim" is its size in bytes
        }

        return symbols.Bytes(spec);
    }

    // slot_chunk (ShadowKV's working-slot table) starts empty: −1 in every entry. slot null: every slot.
    private void ResetSelectionState(int? slot)
    {
        if (!memory.CacheOffsets.TryGetValue("slot_chunk", out long offset) || memory.Caches is null)
        {
            return;
        }

        BufferSpec spec = phases.Values.SelectMany(p => p.Buffers).First(b => b.Name == "slot_chunk");
        long total = BufferBytes(spec, Symbols);
        long perSlot = total / Symbols["B"];
        for (long layer = 0; layer < Symbols["L"]; layer++)
        {
            // The buffer starts at a planned (aligned) offset; one slot's rows inside it need not be aligned.
            DeviceBuffer table = memory.Caches.Slice(layer * memory.CacheBlockBytes + offset, total);
            DeviceBuffer region = slot is null ? table : table.Slice(slot.Value * perSlot, perSlot);
            compute.Fill(region, 0xFF);
        }
    }

    private sealed class GpuMemory : IDisposable
    {
        public DeviceArena? Weights { get; set; }

        public DeviceArena Arena { get; set; } = null!;

        public long ArenaBytes { get; set; }

        public DeviceArena? Caches { get; set; }

        public long CacheBlockBytes { get; set; }

        public Dictionary<string, long> CacheOffsets { get; set; } = new(StringComparer.Ordinal);

        public Dictionary<string, long> HostOffsets { get; set; } = new(StringComparer.Ordinal);

        public long HostBlockBytes { get; set; }

        public PinnedHostPool? Host { get; set; }

        public Dictionary<(string Name, int Layer), DeviceBuffer> WeightBuffers { get; } = [];

        public Dictionary<(string Name, int Layer), DeviceBuffer> F32Biases { get; } = [];

        public Dictionary<string, DeviceBuffer> GemmWorkspaces { get; } = new(StringComparer.Ordinal);

        public DeviceBuffer Eigenvalues { get; set; }

        public DeviceBuffer SolverWorkspace { get; set; }

        public long DeviceBytes { get; set; }

        public long PinnedBytes { get; set; }

        public void Dispose()
        {
            Weights?.Dispose();
            Arena?.Dispose();
            Caches?.Dispose();
            Host?.Dispose();
        }
    }
}
