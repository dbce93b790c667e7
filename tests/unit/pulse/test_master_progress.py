"""What the pulse worker records of its master-data progress in its commits, and where a
rebuild takes master data live again from."""

from aiokafka import TopicPartition

from services.pulse.adapters.worker import master_progress, master_published

LEAD = "actions.lead.v1"
ACCOUNT = "actions.account.v1"
ENDS = {TopicPartition(LEAD, 0): 50, TopicPartition(LEAD, 1): 40, TopicPartition(ACCOUNT, 0): 9}


def activity(p: int) -> TopicPartition:
    return TopicPartition("gateway.activity.v1", p)


def test_progress_is_compact_and_reads_back():
    text = master_progress({TopicPartition(LEAD, 1): 40, TopicPartition(LEAD, 0): 12, TopicPartition(ACCOUNT, 0): 9})
    assert text == '{"actions.account.v1":[9],"actions.lead.v1":[12,40]}'
    assert master_published({activity(0): (100, text)}, ENDS) == {
        TopicPartition(LEAD, 0): 12, TopicPartition(LEAD, 1): 40, TopicPartition(ACCOUNT, 0): 9,
    }


def test_the_least_progress_over_the_partitions_wins_and_the_end_caps_it():
    ahead = master_progress({TopicPartition(LEAD, 0): 60, TopicPartition(LEAD, 1): 40, TopicPartition(ACCOUNT, 0): 9})
    behind = master_progress({TopicPartition(LEAD, 0): 30, TopicPartition(LEAD, 1): 40})
    found = master_published({activity(0): (7, ahead), activity(1): (3, behind)}, ENDS)
    # lead[0]: 30 (behind); account[0]: not in `behind`'s record, so nothing known published
    assert found == {TopicPartition(LEAD, 0): 30, TopicPartition(LEAD, 1): 40, TopicPartition(ACCOUNT, 0): 0}
    assert master_published({activity(0): (7, ahead)}, ENDS)[TopicPartition(LEAD, 0)] == 50


def test_without_recorded_progress_the_end_of_the_log_is_where_live_data_starts():
    assert master_published({}, ENDS) == ENDS  # a new group
    assert master_published({activity(0): (100, "")}, ENDS) == ENDS  # commits from before progress was recorded


def test_metadata_that_is_not_progress_counts_as_none_instead_of_failing_the_rebuild():
    good = master_progress({TopicPartition(LEAD, 0): 12})
    for foreign in ("null", '{"actions.lead.v1": 5}', '{"actions.lead.v1": [{"0": 1}]}', '{"actions.lead.v1": ["7"]}',
                    '{"actions.lead.v1": [-1]}', "[1, 2]", "not json"):
        assert master_published({activity(0): (100, foreign)}, ENDS) == ENDS, foreign
        # beside a real record, the foreign one is ignored
        assert master_published({activity(0): (100, foreign), activity(1): (5, good)}, ENDS)[TopicPartition(LEAD, 0)] == 12


def test_progress_too_large_for_commit_metadata_is_not_recorded():
    many = {TopicPartition(f"actions.topic{t}.v1", p): 1_000_000_000 + p for t in range(4) for p in range(96)}
    assert master_progress(many) == ""
    assert master_published({activity(0): (100, "")}, ENDS) == ENDS
