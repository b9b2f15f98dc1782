/**
 * The TLB's machinery, not for users: the entry table and its index, the replacement policies.
 * Their threading rules are the {@link org.unetmm.tlb.Tlb}'s and are kept by it, not here.
 */
package org.unetmm.tlb.internal;
