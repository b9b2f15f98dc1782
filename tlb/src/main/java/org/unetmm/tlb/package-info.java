/** The NIC-resident TLB of U-Net/MM: (context, virtual page) → translation, backed by the pin cache. */
package org.unetmm.tlb;
