package org.unetmm.spi;

/** The NIC's receive side, as a transport sees it. */
public interface Inbound {
    /**
     * A fragment arrived. The NIC validates it, finds its channel and posted buffer, and pulls the
     * payload in. Returns false only when the NIC cannot take it now (busy): the transport keeps
     * the fragment and offers it again later; true means delivered or dropped and counted.
     */
    boolean onFragment(FrameHeader header, PayloadSource payload);
}
