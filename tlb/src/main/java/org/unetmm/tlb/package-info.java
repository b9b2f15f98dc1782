/**
 * The NIC-resident TLB of U-Net/MM: (context, virtual page) → translation, backed by the pin cache.
 *
 * <p>{@link org.unetmm.tlb.Tlb} is the TLB (its class comment states the threading contract and
 * the shootdown protocol); {@link org.unetmm.tlb.TlbConfig} its validated shape;
 * {@link org.unetmm.tlb.MissHandler} the trap into the kernel, and
 * {@link org.unetmm.tlb.MissHandler#pinning} the one that pins through a
 * {@link org.unetmm.pinning.PinCache} ({@link org.unetmm.tlb.Tlb#over} pairs them). Trace-driven runs and Bélády's bound live in
 * {@code org.unetmm.tlb.trace}; the entry table, the policies and the pinning handler in
 * {@code org.unetmm.tlb.internal}.
 */
package org.unetmm.tlb;
