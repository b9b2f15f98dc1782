/**
 * Trace-driven runs of the TLB for memory-pressure experiments: seeded page-access traces
 * ({@link org.unetmm.tlb.trace.PageTrace}), a runner that drives a TLB and a pin cache with one
 * over real mmap'd memory ({@link org.unetmm.tlb.trace.TraceRunner}), and Bélády's offline
 * optimum ({@link org.unetmm.tlb.trace.BeladyOpt}) so every hit rate is reported beside its bound.
 */
package org.unetmm.tlb.trace;
