"""The env's sequence items keep pyuvm's item contract (without a simulator)."""

from pyuvm import uvm_sequence_item

from verif.uvm.env import UpReqBatch, UpReqItem


def test_up_req_item_has_every_attribute_of_a_pyuvm_item():
    """UpReqItem skips uvm_sequence_item.__init__ to make its Events lazily: it must still
    carry every attribute that constructor sets (this fails if pyuvm adds one)."""
    item, ref = UpReqItem(addr=0x40, write=1, data=5), uvm_sequence_item("ref")
    for name in vars(ref):
        assert hasattr(item, name), name
    assert type(item.start_condition) is type(ref.start_condition)
    assert item.item_ready is item.item_ready, "an Event is made once, then kept"
    assert (item.addr, item.write, item.data, item.pending) == (0x40, True, 5, None)


def test_batch_keeps_its_items_in_order():
    items = [UpReqItem(addr=64 * i) for i in range(5)]
    batch = UpReqBatch(items=items)
    assert isinstance(batch, uvm_sequence_item)
    assert [i.addr for i in batch.items] == [64 * i for i in range(5)]
    assert str(batch) == "5 requests"
