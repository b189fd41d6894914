"""foundation: system dictionary, id segments, province uid sequences

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import usercenter.kit.models

revision: str = "0001_foundation"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The 34 province-level divisions, with their ISO 3166-2:CN letter codes (seed 004 §9.1).
PROVINCES = [
    ("BJ", "北京市", "华北", "beijing"),
    ("TJ", "天津市", "华北", "tianjin"),
    ("HE", "河北省", "华北", "hebei"),
    ("SX", "山西省", "华北", "shanxi"),
    ("NM", "内蒙古自治区", "华北", "neimenggu"),
    ("LN", "辽宁省", "东北", "liaoning"),
    ("JL", "吉林省", "东北", "jilin"),
    ("HL", "黑龙江省", "东北", "heilongjiang"),
    ("SH", "上海市", "华东", "shanghai"),
    ("JS", "江苏省", "华东", "jiangsu"),
    ("ZJ", "浙江省", "华东", "zhejiang"),
    ("AH", "安徽省", "华东", "anhui"),
    ("FJ", "福建省", "华东", "fujian"),
    ("JX", "江西省", "华东", "jiangxi"),
    ("SD", "山东省", "华东", "shandong"),
    ("HA", "河南省", "华中", "henan"),
    ("HB", "湖北省", "华中", "hubei"),
    ("HN", "湖南省", "华中", "hunan"),
    ("GD", "广东省", "华南", "guangdong"),
    ("GX", "广西壮族自治区", "华南", "guangxi"),
    ("HI", "海南省", "华南", "hainan"),
    ("CQ", "重庆市", "西南", "chongqing"),
    ("SC", "四川省", "西南", "sichuan"),
    ("GZ", "贵州省", "西南", "guizhou"),
    ("YN", "云南省", "西南", "yunnan"),
    ("XZ", "西藏自治区", "西南", "xizang"),
    ("SN", "陕西省", "西北", "shaanxi"),
    ("GS", "甘肃省", "西北", "gansu"),
    ("QH", "青海省", "西北", "qinghai"),
    ("NX", "宁夏回族自治区", "西北", "ningxia"),
    ("XJ", "新疆维吾尔自治区", "西北", "xinjiang"),
    ("TW", "台湾省", "港澳台", "taiwan"),
    ("HK", "香港特别行政区", "港澳台", "xianggang"),
    ("MO", "澳门特别行政区", "港澳台", "aomen"),
]

# Business types of seed 004 §9.8 and the user center's own.
ID_SEGMENTS = [
    ("USER", 1000, "用户内部编号"),
    ("ORDER", 1000, "订单号"),
    ("WATER_LOG", 5000, "取水流水"),
    ("COIN_LOG", 2000, "水币流水"),
    ("PROMOTION_LOG", 1000, "促销流水"),
]

created = datetime(2026, 11, 23, tzinfo=UTC)


def upgrade() -> None:
    sys_dict = op.create_table(
        "sys_dict",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("dict_type", sa.String(length=50), nullable=False),
        sa.Column("dict_code", sa.String(length=50), nullable=False),
        sa.Column("dict_name", sa.String(length=100), nullable=False),
        sa.Column("dict_value", sa.Text(), nullable=True),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("extra_data", sa.JSON(), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("remark", sa.String(length=255), nullable=True),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("updated_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sys_dict")),
        sa.UniqueConstraint("dict_type", "dict_code", name=op.f("uq_sys_dict_dict_type_dict_code")),
    )
    op.create_index(op.f("ix_sys_dict_parent_id"), "sys_dict", ["parent_id"], unique=False)

    id_segment = op.create_table(
        "id_segment",
        sa.Column("biz_type", sa.String(length=50), nullable=False),
        sa.Column("max_id", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("updated_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("biz_type", name=op.f("pk_id_segment")),
    )
    uid_sequence = op.create_table(
        "uid_sequence",
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("province_name", sa.String(length=50), nullable=False),
        sa.Column("current_sequence", sa.BigInteger(), nullable=False),
        sa.Column("max_sequence", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("last_generated_at", usercenter.kit.models.UtcDateTime(), nullable=True),
        sa.Column("created_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.Column("updated_at", usercenter.kit.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("province_code", name=op.f("pk_uid_sequence")),
    )
    op.create_table(
        "uid_released",
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["uid_sequence.province_code"],
            name=op.f("fk_uid_released_province_code_uid_sequence"),
        ),
        sa.PrimaryKeyConstraint("province_code", "first_seq", name=op.f("pk_uid_released")),
    )

    op.bulk_insert(
        sys_dict,
        [
            {
                "dict_type": "PROVINCE_CODE",
                "dict_code": code,
                "dict_name": name,
                "dict_value": code,
                "extra_data": {"region": region, "pinyin": pinyin},
                "sort_order": position,
                "is_active": True,
                "created_at": created,
                "updated_at": created,
            }
            for position, (code, name, region, pinyin) in enumerate(PROVINCES, start=1)
        ],
    )
    op.bulk_insert(
        uid_sequence,
        [
            {
                "province_code": code,
                "province_name": name,
                "current_sequence": 0,
                "max_sequence": None,
                "version": 0,
                "created_at": created,
                "updated_at": created,
            }
            for code, name, _, _ in PROVINCES
        ],
    )
    op.bulk_insert(
        id_segment,
        [
            {
                "biz_type": biz_type,
                "max_id": 0,
                "step": step,
                "version": 0,
                "description": description,
                "created_at": created,
                "updated_at": created,
            }
            for biz_type, step, description in ID_SEGMENTS
        ],
    )


def downgrade() -> None:
    op.drop_table("uid_released")
    op.drop_table("uid_sequence")
    op.drop_table("id_segment")
    op.drop_index(op.f("ix_sys_dict_parent_id"), table_name="sys_dict")
    op.drop_table("sys_dict")
