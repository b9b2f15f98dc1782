/**
 * The TLB's machinery, not for users: the entry table and its index, the replacement policies,
 * the pinning miss handler (public as {@link org.unetmm.tlb.MissHandler#pinning}).
 * Their threading rules are the {@link org.unetmm.tlb.Tlb}'s and are kept by it, not here.
 */
package org.unetmm.tlb.internal;
